// Web stand-in for the Firebase Authentication service: React Native Firebase is native-only, so
// on the web nobody is ever signed in and sign-in calls fail with a clear message. Same exports
// as `firebase-auth.ts`.
import type { User } from '@react-native-firebase/auth';

export type { User };

/** Whether Firebase Authentication works on this platform (false on the web). */
export const authAvailable = false;

const unavailable = () => new Error('Sign-in is not available on the web: it is available in the iOS and Android apps.');

export async function signIn(_email: string, _password: string): Promise<User> {
  throw unavailable();
}

export async function signUp(_email: string, _password: string, _displayName?: string): Promise<User> {
  throw unavailable();
}

export async function resetPassword(_email: string): Promise<void> {
  throw unavailable();
}

export async function updateDisplayName(_displayName: string): Promise<void> {
  throw unavailable();
}

export function currentUser(): User | null {
  return null;
}

export async function signOut(): Promise<void> {}

/** Reports nobody signed in: sign-in is not available on the web (`authAvailable` is false). */
export function subscribeToAuthState(listener: (user: User | null) => void): () => void {
  listener(null);
  return () => {};
}
//#if feature.googleSignIn

export async function signInWithGoogle(): Promise<User | null> {
  throw unavailable();
}
//#endif
//#if feature.appleSignIn

export async function signInWithApple(): Promise<User> {
  throw unavailable();
}
//#endif
//#if feature.phoneSignIn

export type PhoneCodeRequest = { confirm: (code: string) => Promise<User> };

export async function sendPhoneCode(_phoneNumber: string): Promise<PhoneCodeRequest> {
  throw unavailable();
}
//#endif
