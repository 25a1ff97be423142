// Account creation for Firebase Authentication with email, password and a display name.
import { useState } from 'react';

import { signUp, type User } from '../../services/firebase-auth';
import { FormScreen, LinkButton, Message, PrimaryButton, TextField } from './FormControls';

export type SignupScreenProps = {
  onSignedUp?: (user: User) => void;
  onHaveAccount?: () => void;
};

export function SignupScreen({ onSignedUp, onHaveAccount }: SignupScreenProps) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit() {
    if (password.length < 6) {
      setError('Use at least 6 characters for the password.');
      return;
    }
    if (password !== confirm) {
      setError('The passwords do not match.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const user = await signUp(email.trim(), password, name.trim() || undefined);
      onSignedUp?.(user);
    } catch (e) {
      const code = (e as { code?: string }).code;
      setError(
        code === 'auth/email-already-in-use'
          ? 'An account with this email already exists.'
          : e instanceof Error
            ? e.message
            : 'Sign-up failed.',
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <FormScreen title="Create an account">
      <TextField label="Name" value={name} onChangeText={setName} autoComplete="name" />
      <TextField label="Email" value={email} onChangeText={setEmail} autoCapitalize="none" autoComplete="email" keyboardType="email-address" />
      <TextField label="Password" value={password} onChangeText={setPassword} secureTextEntry autoComplete="new-password" />
      <TextField label="Confirm password" value={confirm} onChangeText={setConfirm} secureTextEntry autoComplete="new-password" />
      <Message text={error} />
      <PrimaryButton label="Create account" busy={busy} disabled={!email || !password} onPress={submit} />
      {onHaveAccount ? <LinkButton label="I already have an account" onPress={onHaveAccount} /> : null}
    </FormScreen>
  );
}
