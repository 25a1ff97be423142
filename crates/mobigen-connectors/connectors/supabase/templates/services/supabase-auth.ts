// Supabase Auth for the providers chosen in the connector's config. OAuth providers open the
// provider's page in an in-app browser session and come back to the app's URL scheme with a code
// that is exchanged for a session (PKCE); magic links and email confirmations open the app with
// such a link, which `startSupabase` (supabase.ts, run at start-up) completes.
import type { Provider, Session } from '@supabase/supabase-js';
import * as Linking from 'expo-linking';
import * as WebBrowser from 'expo-web-browser';

import { completeSignInFromUrl, supabase } from './supabase';

export { completeSignInFromUrl, onAuthRedirectError } from './supabase';

export type AuthProvider = 'email' | 'google' | 'github' | 'apple' | 'magic-link';

/** The sign-in methods selected in the connector's config, in order. */
export const AUTH_PROVIDERS: readonly AuthProvider[] = {%json /features/auth/providers%};

WebBrowser.maybeCompleteAuthSession();

/** Where providers send the user back to: `<scheme>://auth-callback` (or the web origin). */
export function redirectUrl(): string {
  return Linking.createURL('auth-callback');
}

export async function signInWithPassword(email: string, password: string): Promise<Session> {
  const { data, error } = await supabase.auth.signInWithPassword({ email, password });
  if (error) throw error;
  return data.session;
}

/** Creates an account; the session is null while the email address awaits confirmation. */
export async function signUp(email: string, password: string): Promise<Session | null> {
  const { data, error } = await supabase.auth.signUp({
    email,
    password,
    options: { emailRedirectTo: redirectUrl() },
  });
  if (error) throw error;
  return data.session;
}

/** Emails a sign-in link; opening it on the device signs the user in (`completeSignInFromUrl`). */
export async function sendMagicLink(email: string): Promise<void> {
  const { error } = await supabase.auth.signInWithOtp({
    email,
    options: { emailRedirectTo: redirectUrl() },
  });
  if (error) throw error;
}

/** Signs in with an OAuth provider; resolves to null when the user closes the browser. */
export async function signInWithProvider(provider: Exclude<AuthProvider, 'email' | 'magic-link'>): Promise<Session | null> {
  const redirectTo = redirectUrl();
  const { data, error } = await supabase.auth.signInWithOAuth({
    provider: provider as Provider,
    options: { redirectTo, skipBrowserRedirect: true },
  });
  if (error) throw error;
  const result = await WebBrowser.openAuthSessionAsync(data.url, redirectTo);
  if (result.type !== 'success') return null;
  return completeSignInFromUrl(result.url);
}

export async function signOut(): Promise<void> {
  const { error } = await supabase.auth.signOut();
  if (error) throw error;
}

/** Calls `listener` with the session (or null) on every change; returns the unsubscribe function. */
export function subscribeToSession(listener: (session: Session | null) => void): () => void {
  const { data } = supabase.auth.onAuthStateChange((_event, session) => listener(session));
  return () => data.subscription.unsubscribe();
}
