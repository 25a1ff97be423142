// Firebase Authentication through React Native Firebase's modular API (v22+: getAuth() and
// functions, no namespaced `auth()` calls), with the providers of the connector's config (email,
// Google, Apple, phone). Native apps read their Firebase project from
// google-services.json / GoogleService-Info.plist (app.json `googleServicesFile`). On the web,
// Metro picks `firebase-auth.web.ts` instead (the Firebase JS SDK).
import {
  createUserWithEmailAndPassword,
  getAuth,
  onAuthStateChanged,
  sendPasswordResetEmail,
  signInWithEmailAndPassword,
  signOut as firebaseSignOut,
  updateProfile,
//#if feature.googleSignIn
  GoogleAuthProvider,
  signInWithCredential,
//#endif
//#if feature.appleSignIn
  OAuthProvider,
  signInWithPopup,
//#endif
//#if feature.phoneSignIn
  signInWithPhoneNumber,
//#endif
  type User,
} from '@react-native-firebase/auth';
//#if feature.googleSignIn
import { GoogleSignin, isSuccessResponse } from '@react-native-google-signin/google-signin';
//#endif

export type { User };

/** Whether Firebase Authentication works on this platform (it does on the web too). */
export const authAvailable = true;

/** Signs in with email and password. */
export async function signIn(email: string, password: string): Promise<User> {
  const credential = await signInWithEmailAndPassword(getAuth(), email, password);
  return credential.user;
}

/** Creates an account with email and password, signs it in and sets its display name. */
export async function signUp(email: string, password: string, displayName?: string): Promise<User> {
  const credential = await createUserWithEmailAndPassword(getAuth(), email, password);
  if (displayName) {
    await updateProfile(credential.user, { displayName });
  }
  return credential.user;
}

/** Sends a password reset email. */
export function resetPassword(email: string): Promise<void> {
  return sendPasswordResetEmail(getAuth(), email);
}

/** Changes the signed-in user's display name. */
export async function updateDisplayName(displayName: string): Promise<void> {
  const user = getAuth().currentUser;
  if (!user) throw new Error('Nobody is signed in.');
  await updateProfile(user, { displayName });
}

/** The signed-in user, or null. */
export function currentUser(): User | null {
  return getAuth().currentUser;
}

/** Signs the current user out. */
export async function signOut(): Promise<void> {
//#if feature.googleSignIn
  await GoogleSignin.signOut().catch(() => undefined);
//#endif
  await firebaseSignOut(getAuth());
}

/** Calls `listener` with the signed-in user (or null) now and on every change; returns the unsubscribe function. */
export function subscribeToAuthState(listener: (user: User | null) => void): () => void {
  return onAuthStateChanged(getAuth(), listener);
}
//#if feature.googleSignIn

let googleConfigured = false;

/**
 * Signs in with a Google account. Needs the OAuth web client id of the Firebase project
 * (EXPO_PUBLIC_GOOGLE_WEB_CLIENT_ID; Firebase console > Authentication > Google). Resolves to
 * null when the user cancels.
 */
export async function signInWithGoogle(): Promise<User | null> {
  if (!googleConfigured) {
    GoogleSignin.configure({ webClientId: process.env.EXPO_PUBLIC_GOOGLE_WEB_CLIENT_ID });
    googleConfigured = true;
  }
  await GoogleSignin.hasPlayServices({ showPlayServicesUpdateDialog: true });
  const response = await GoogleSignin.signIn();
  if (!isSuccessResponse(response)) return null;
  const { idToken } = response.data;
  if (!idToken) throw new Error('Google did not return an ID token; check the web client id.');
  const credential = await signInWithCredential(getAuth(), GoogleAuthProvider.credential(idToken));
  return credential.user;
}
//#endif
//#if feature.appleSignIn

/**
 * Signs in with Apple through Firebase's apple.com provider (enable Apple in Firebase console >
 * Authentication > Sign-in method; on iOS the app needs the Sign in with Apple capability).
 */
export async function signInWithApple(): Promise<User> {
  const provider = new OAuthProvider('apple.com');
  provider.addScope('email');
  provider.addScope('name');
  // React Native Firebase 26 types signInWithPopup's provider as an interface with a public
  // providerId, while its own OAuthProvider keeps providerId private: the same object, retyped.
  const credential = await signInWithPopup(getAuth(), provider as unknown as Parameters<typeof signInWithPopup>[1]);
  return credential.user;
}
//#endif
//#if feature.phoneSignIn

/** A text message code on its way; `confirm` signs in with the code the user typed. */
export type PhoneCodeRequest = { confirm: (code: string) => Promise<User> };

/** Texts a sign-in code to `phoneNumber` (international format, such as +15555550100). */
export async function sendPhoneCode(phoneNumber: string): Promise<PhoneCodeRequest> {
  const confirmation = await signInWithPhoneNumber(getAuth(), phoneNumber);
  return {
    confirm: async (code: string) => {
      const credential = await confirmation.confirm(code);
      if (!credential) throw new Error('The phone number was verified automatically; sign-in is complete.');
      return credential.user;
    },
  };
}
//#endif
