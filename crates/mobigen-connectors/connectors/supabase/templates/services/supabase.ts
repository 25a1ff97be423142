// The app's Supabase client, set up as Supabase recommends for React Native: URL polyfill first,
// sessions in AsyncStorage (not on the web), no URL session detection, and token auto-refresh
// only while the app is in the foreground (`startSupabase`, run at start-up). Only the public
// (publishable or anon) key reaches the app; secret keys stay in the credential store.
import 'react-native-url-polyfill/auto';
import AsyncStorage from '@react-native-async-storage/async-storage';
import { createClient, processLock } from '@supabase/supabase-js';
import { AppState, Platform } from 'react-native';
//#if feature.auth
import type { EmailOtpType, Session } from '@supabase/supabase-js';
import * as Linking from 'expo-linking';
//#endif

import type { Database } from '../types/supabase';

/**
 * Static web rendering (`expo export`, server output) evaluates this module in Node, where
 * Node 20 has no WebSocket and the realtime client refuses to start. Realtime is never used
 * while rendering, so there it gets a transport that fails only if something tries.
 */
class NoServerWebSocket {
  constructor() {
    throw new Error('Supabase realtime is not available while the page is rendered on the server');
  }
}
const renderingOnServer = Platform.OS === 'web' && typeof window === 'undefined';

export const supabase = createClient<Database>(
  process.env.EXPO_PUBLIC_SUPABASE_URL!,
  process.env.EXPO_PUBLIC_SUPABASE_KEY!,
  {
    auth: {
      ...(Platform.OS !== 'web' ? { storage: AsyncStorage } : {}),
      autoRefreshToken: true,
      persistSession: true,
      detectSessionInUrl: false,
      lock: processLock,
//#if feature.auth
      // OAuth and magic links come back to the app with a code to exchange (supabase-auth.ts).
      flowType: 'pkce',
//#endif
    },
    ...(renderingOnServer
      ? { realtime: { transport: NoServerWebSocket as unknown as typeof WebSocket } }
      : {}),
  },
);

let started = false;

/**
 * Runs once at start-up (src/connectors.tsx): token auto-refresh only while the app is in the
 * foreground (native), and sign-ins completed from the links the app is opened with.
 */
export function startSupabase(): void {
  if (started) return;
  started = true;
  if (Platform.OS !== 'web') {
    AppState.addEventListener('change', (state) => {
      if (state === 'active') {
        supabase.auth.startAutoRefresh();
      } else {
        supabase.auth.stopAutoRefresh();
      }
    });
  }
//#if feature.auth
  listenForAuthRedirects();
//#endif
}
//#if feature.auth

/** The parameters of a URL's query and fragment (Supabase puts errors and implicit-flow tokens in the fragment). */
function urlParams(url: string): Record<string, string> {
  const params: Record<string, string> = {};
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt === -1 ? url : url.slice(0, hashAt);
  const queryAt = beforeHash.indexOf('?');
  const parts = [queryAt === -1 ? '' : beforeHash.slice(queryAt + 1), hashAt === -1 ? '' : url.slice(hashAt + 1)];
  for (const part of parts) {
    for (const pair of part.split('&')) {
      if (!pair) continue;
      const equals = pair.indexOf('=');
      const key = equals === -1 ? pair : pair.slice(0, equals);
      const value = equals === -1 ? '' : pair.slice(equals + 1);
      try {
        params[decodeURIComponent(key)] = decodeURIComponent(value.replace(/\+/g, ' '));
      } catch {
        // A malformed escape: not a parameter Supabase sent.
      }
    }
  }
  return params;
}

const completedUrls = new Set<string>();

const EMAIL_OTP_TYPES: readonly EmailOtpType[] = ['signup', 'invite', 'magiclink', 'recovery', 'email_change', 'email'];

/**
 * Finishes an OAuth, magic-link or email-confirmation sign-in from a URL the app was opened with:
 * a PKCE `code` (exchanged for a session), a `token_hash` with its `type` (verified), or the
 * implicit flow's tokens. Resolves to null when the URL carries none of them; throws Supabase's
 * error (an expired link, for example).
 */
export async function completeSignInFromUrl(url: string): Promise<Session | null> {
  // A link is used once: an OAuth redirect can arrive both from the browser session and as a
  // URL event.
  if (completedUrls.has(url)) return null;
  const params = urlParams(url);
  if (params.code || params.token_hash || params.access_token) completedUrls.add(url);
  if (params.error_description || params.error) {
    throw new Error(params.error_description || params.error);
  }
  if (params.code) {
    const { data, error } = await supabase.auth.exchangeCodeForSession(params.code);
    if (error) throw error;
    return data.session;
  }
  const type = EMAIL_OTP_TYPES.find((t) => t === params.type);
  if (params.token_hash && type) {
    const { data, error } = await supabase.auth.verifyOtp({ token_hash: params.token_hash, type });
    if (error) throw error;
    return data.session;
  }
  if (params.access_token && params.refresh_token) {
    const { data, error } = await supabase.auth.setSession({
      access_token: params.access_token,
      refresh_token: params.refresh_token,
    });
    if (error) throw error;
    return data.session;
  }
  return null;
}

const redirectErrorListeners = new Set<(message: string) => void>();

/** Calls `listener` when a sign-in link the app was opened with fails (expired or already used); returns the unsubscribe function. */
export function onAuthRedirectError(listener: (message: string) => void): () => void {
  redirectErrorListeners.add(listener);
  return () => {
    redirectErrorListeners.delete(listener);
  };
}

function completeFrom(url: string | null): void {
  if (!url) return;
  // A session is announced through onAuthStateChange (supabase-auth.ts `subscribeToSession`).
  completeSignInFromUrl(url).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : 'The sign-in link did not work.';
    redirectErrorListeners.forEach((listener) => listener(message));
  });
}

/** Completes sign-ins from the link that opened the app and from links opened while it runs. */
function listenForAuthRedirects(): void {
  Linking.getInitialURL().then(completeFrom, () => undefined);
  Linking.addEventListener('url', ({ url }) => completeFrom(url));
}
//#endif
