// Sign-in screen for Firebase Authentication: email and password, a password reset link
//#if feature.googleSignIn
// and Google sign-in.
//#else
// (Google sign-in appears when the Google provider is selected in the connector's config).
//#endif
import { useState } from 'react';

import {
  resetPassword,
  signIn,
//#if feature.googleSignIn
  signInWithGoogle,
//#endif
//#if feature.appleSignIn
  signInWithApple,
//#endif
//#if feature.phoneSignIn
  sendPhoneCode,
  type PhoneCodeRequest,
//#endif
  type User,
} from '../../services/firebase-auth';
import { FormScreen, LinkButton, Message, PrimaryButton, TextField } from './FormControls';

export type LoginScreenProps = {
  onSignedIn?: (user: User) => void;
  onCreateAccount?: () => void;
};

function errorMessage(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'auth/invalid-credential':
    case 'auth/wrong-password':
    case 'auth/user-not-found':
      return 'Wrong email or password.';
    case 'auth/too-many-requests':
      return 'Too many attempts. Try again later.';
    default:
      return error instanceof Error ? error.message : 'Sign-in failed.';
  }
}

export function LoginScreen({ onSignedIn, onCreateAccount }: LoginScreenProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'error' | 'info' } | null>(null);
//#if feature.phoneSignIn
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [codeRequest, setCodeRequest] = useState<PhoneCodeRequest | null>(null);
//#endif

  async function run(action: () => Promise<User | null>) {
    setBusy(true);
    setMessage(null);
    try {
      const user = await action();
      if (user) onSignedIn?.(user);
    } catch (error) {
      setMessage({ text: errorMessage(error), kind: 'error' });
    } finally {
      setBusy(false);
    }
  }

  async function forgotPassword() {
    if (!email.includes('@')) {
      setMessage({ text: 'Enter your email address first.', kind: 'error' });
      return;
    }
    try {
      await resetPassword(email.trim());
      setMessage({ text: 'Check your inbox for a reset link.', kind: 'info' });
    } catch (error) {
      setMessage({ text: errorMessage(error), kind: 'error' });
    }
  }

  return (
    <FormScreen title="Sign in">
      <TextField label="Email" value={email} onChangeText={setEmail} autoCapitalize="none" autoComplete="email" keyboardType="email-address" />
      <TextField label="Password" value={password} onChangeText={setPassword} secureTextEntry autoComplete="password" />
      <Message text={message?.text ?? null} kind={message?.kind} />
      <PrimaryButton label="Sign in" busy={busy} disabled={!email || !password} onPress={() => run(() => signIn(email.trim(), password))} />
//#if feature.googleSignIn
      <PrimaryButton label="Continue with Google" disabled={busy} onPress={() => run(signInWithGoogle)} />
//#endif
//#if feature.appleSignIn
      <PrimaryButton label="Continue with Apple" disabled={busy} onPress={() => run(signInWithApple)} />
//#endif
//#if feature.phoneSignIn
      {codeRequest ? (
        <>
          <TextField label="Code from the text message" value={code} onChangeText={setCode} keyboardType="number-pad" autoComplete="one-time-code" />
          <PrimaryButton label="Sign in with the code" busy={busy} disabled={!code} onPress={() => run(() => codeRequest.confirm(code.trim()))} />
        </>
      ) : (
        <>
          <TextField label="Phone number" value={phone} onChangeText={setPhone} keyboardType="phone-pad" autoComplete="tel" placeholder="+15555550100" />
          <PrimaryButton
            label="Text me a sign-in code"
            busy={busy}
            disabled={!phone}
            onPress={() =>
              run(async () => {
                setCodeRequest(await sendPhoneCode(phone.trim()));
                setMessage({ text: 'Enter the code we sent by text message.', kind: 'info' });
                return null;
              })
            }
          />
        </>
      )}
//#endif
      <LinkButton label="Forgot password?" onPress={forgotPassword} />
      {onCreateAccount ? <LinkButton label="Create an account" onPress={onCreateAccount} /> : null}
    </FormScreen>
  );
}
