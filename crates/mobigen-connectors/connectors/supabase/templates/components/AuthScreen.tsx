// Sign-in and sign-up with Supabase Auth, showing the providers chosen in the connector's config
// (email and password, magic link, Google, GitHub, Apple).
import { useEffect, useState } from 'react';
import type { Session } from '@supabase/supabase-js';

import {
  AUTH_PROVIDERS,
  onAuthRedirectError,
  sendMagicLink,
  signInWithPassword,
  signInWithProvider,
  signUp,
} from '../../services/supabase-auth';
import { FormScreen, LinkButton, Message, PrimaryButton, TextField } from './FormControls';

const OAUTH_LABELS = { google: 'Google', github: 'GitHub', apple: 'Apple' } as const;
type OAuthProvider = keyof typeof OAUTH_LABELS;

export type AuthScreenProps = {
  onSignedIn?: (session: Session) => void;
};

export function AuthScreen({ onSignedIn }: AuthScreenProps) {
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'error' | 'info' } | null>(null);
  const withPassword = AUTH_PROVIDERS.includes('email');
  const withMagicLink = AUTH_PROVIDERS.includes('magic-link');
  const oauth = AUTH_PROVIDERS.filter((p): p is OAuthProvider => p in OAUTH_LABELS);

  // A magic link or confirmation link that failed (expired, already used) is reported here.
  useEffect(() => onAuthRedirectError((text) => setMessage({ text, kind: 'error' })), []);

  async function run(action: () => Promise<Session | null>, pending?: string) {
    setBusy(true);
    setMessage(null);
    try {
      const session = await action();
      if (session) onSignedIn?.(session);
      else if (pending) setMessage({ text: pending, kind: 'info' });
    } catch (error) {
      setMessage({ text: error instanceof Error ? error.message : 'Sign-in failed.', kind: 'error' });
    } finally {
      setBusy(false);
    }
  }

  const signingUp = mode === 'sign-up';
  return (
    <FormScreen title={signingUp ? 'Create an account' : 'Sign in'}>
      {withPassword || withMagicLink ? (
        <TextField label="Email" value={email} onChangeText={setEmail} autoCapitalize="none" autoComplete="email" keyboardType="email-address" />
      ) : null}
      {withPassword ? (
        <TextField label="Password" value={password} onChangeText={setPassword} secureTextEntry autoComplete={signingUp ? 'new-password' : 'password'} />
      ) : null}
      <Message text={message?.text ?? null} kind={message?.kind} />
      {withPassword ? (
        <PrimaryButton
          label={signingUp ? 'Create account' : 'Sign in'}
          busy={busy}
          disabled={!email || !password}
          onPress={() =>
            run(
              () => (signingUp ? signUp(email.trim(), password) : signInWithPassword(email.trim(), password)),
              'Check your inbox to confirm your email address.',
            )
          }
        />
      ) : null}
      {withMagicLink ? (
        <PrimaryButton
          label="Email me a sign-in link"
          disabled={busy || !email}
          onPress={() => run(async () => { await sendMagicLink(email.trim()); return null; }, 'Check your inbox for the sign-in link.')}
        />
      ) : null}
      {oauth.map((provider) => (
        <PrimaryButton
          key={provider}
          label={`Continue with ${OAUTH_LABELS[provider]}`}
          disabled={busy}
          onPress={() => run(() => signInWithProvider(provider))}
        />
      ))}
      {withPassword ? (
        <LinkButton
          label={signingUp ? 'I already have an account' : 'Create an account'}
          onPress={() => setMode(signingUp ? 'sign-in' : 'sign-up')}
        />
      ) : null}
    </FormScreen>
  );
}
