// The signed-in user's profile: email, editable display name, sign out.
import { useEffect, useState } from 'react';
import { ActivityIndicator } from 'react-native';

import { signOut, subscribeToAuthState, updateDisplayName, type User } from '../../services/firebase-auth';
import { FormScreen, Message, PrimaryButton, TextField } from './FormControls';

export type ProfileScreenProps = {
  onSignedOut?: () => void;
};

export function ProfileScreen({ onSignedOut }: ProfileScreenProps) {
  // undefined until Firebase reports the signed-in user (or nobody) for the first time.
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'error' | 'info' } | null>(null);

  useEffect(
    () =>
      subscribeToAuthState((next) => {
        setUser(next);
        setName(next?.displayName ?? '');
      }),
    [],
  );

  async function save() {
    setBusy(true);
    setMessage(null);
    try {
      await updateDisplayName(name.trim());
      setMessage({ text: 'Saved.', kind: 'info' });
    } catch (error) {
      setMessage({ text: error instanceof Error ? error.message : 'Saving failed.', kind: 'error' });
    } finally {
      setBusy(false);
    }
  }

  async function leave() {
    await signOut();
    onSignedOut?.();
  }

  if (user === undefined) {
    return (
      <FormScreen title="Profile">
        <ActivityIndicator accessibilityLabel="Loading your profile" />
      </FormScreen>
    );
  }

  if (!user) {
    return (
      <FormScreen title="Profile">
        <Message text="You are not signed in." kind="info" />
      </FormScreen>
    );
  }

  return (
    <FormScreen title="Profile">
      <Message text={user.email ?? 'No email address'} kind="info" />
      <TextField label="Display name" value={name} onChangeText={setName} autoComplete="name" />
      <Message text={message?.text ?? null} kind={message?.kind} />
      <PrimaryButton label="Save" busy={busy} onPress={save} />
      <PrimaryButton label="Sign out" onPress={leave} />
    </FormScreen>
  );
}
