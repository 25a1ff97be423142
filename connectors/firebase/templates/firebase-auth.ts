// Firebase Authentication through React Native Firebase's modular API. Native apps read their
// Firebase config from google-services.json / GoogleService-Info.plist (see app.json).
import {
  createUserWithEmailAndPassword,
  getAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut as firebaseSignOut,
  type FirebaseAuthTypes,
} from '@react-native-firebase/auth';

export type User = FirebaseAuthTypes.User;

/** Signs in with email and password. */
export async function signIn(email: string, password: string): Promise<User> {
  const credential = await signInWithEmailAndPassword(getAuth(), email, password);
  return credential.user;
}

/** Creates an account with email and password and signs it in. */
export async function signUp(email: string, password: string): Promise<User> {
  const credential = await createUserWithEmailAndPassword(getAuth(), email, password);
  return credential.user;
}

/** Signs the current user out. */
export function signOut(): Promise<void> {
  return firebaseSignOut(getAuth());
}

/** Calls `listener` with the signed-in user (or null) now and on every change; returns the unsubscribe function. */
export function subscribeToAuthState(listener: (user: User | null) => void): () => void {
  return onAuthStateChanged(getAuth(), listener);
}
