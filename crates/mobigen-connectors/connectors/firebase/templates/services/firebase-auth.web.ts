// Firebase Authentication on the web, through the Firebase JS SDK (React Native Firebase is
// native-only): the same exports as `firebase-auth.ts`, which Metro picks on iOS and Android.
// The web app's config comes from the EXPO_PUBLIC_FIREBASE_* variables (see `firebase-web.ts`);
// the site's domain must be listed in Firebase console > Authentication > Settings > Authorized
// domains (localhost is by default).
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
  signInWithPopup,
//#else
//#if feature.appleSignIn
  signInWithPopup,
//#endif
//#endif
//#if feature.appleSignIn
  OAuthProvider,
//#endif
//#if feature.phoneSignIn
  RecaptchaVerifier,
  signInWithPhoneNumber,
//#endif
  type Auth,
  type User,
} from 'firebase/auth';

import { firebaseWebApp } from './firebase-web';

export type { User };

/** Whether Firebase Authentication works on this platform (it does on the web too). */
export const authAvailable = true;

/** The Auth instance of the web app (signed-in users are kept in the browser's IndexedDB). */
function auth(): Auth {
  return getAuth(firebaseWebApp());
}

/** Signs in with email and password. */
export async function signIn(email: string, password: string): Promise<User> {
  const credential = await signInWithEmailAndPassword(auth(), email, password);
  return credential.user;
}

/** Creates an account with email and password, signs it in and sets its display name. */
export async function signUp(email: string, password: string, displayName?: string): Promise<User> {
  const credential = await createUserWithEmailAndPassword(auth(), email, password);
  if (displayName) {
    await updateProfile(credential.user, { displayName });
  }
  return credential.user;
}

/** Sends a password reset email. */
export function resetPassword(email: string): Promise<void> {
  return sendPasswordResetEmail(auth(), email);
}

/** Changes the signed-in user's display name. */
export async function updateDisplayName(displayName: string): Promise<void> {
  const user = auth().currentUser;
  if (!user) throw new Error('Nobody is signed in.');
  await updateProfile(user, { displayName });
}

/** The signed-in user, or null (also null until Firebase has restored a saved session: use `subscribeToAuthState`). */
export function currentUser(): User | null {
  return auth().currentUser;
}

/** Signs the current user out. */
export async function signOut(): Promise<void> {
  await firebaseSignOut(auth());
}

/** Calls `listener` with the signed-in user (or null) now and on every change; returns the unsubscribe function. */
export function subscribeToAuthState(listener: (user: User | null) => void): () => void {
  return onAuthStateChanged(auth(), listener);
}
//#if feature.googleSignIn

/**
 * Signs in with a Google account in a popup (enable Google in Firebase console > Authentication >
 * Sign-in method). Resolves to null when the user closes the popup.
 */
export async function signInWithGoogle(): Promise<User | null> {
  try {
    const credential = await signInWithPopup(auth(), new GoogleAuthProvider());
    return credential.user;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'auth/popup-closed-by-user' || code === 'auth/cancelled-popup-request') return null;
    throw error;
  }
}
//#endif
//#if feature.appleSignIn

/**
 * Signs in with Apple in a popup through Firebase's apple.com provider (enable Apple in Firebase
 * console > Authentication > Sign-in method, with the Services ID and key it asks for).
 */
export async function signInWithApple(): Promise<User> {
  const provider = new OAuthProvider('apple.com');
  provider.addScope('email');
  provider.addScope('name');
  const credential = await signInWithPopup(auth(), provider);
  return credential.user;
}
//#endif
//#if feature.phoneSignIn

/** A text message code on its way; `confirm` signs in with the code the user typed. */
export type PhoneCodeRequest = { confirm: (code: string) => Promise<User> };

let recaptcha: { verifier: RecaptchaVerifier; container: HTMLElement } | null = null;

/**
 * The invisible reCAPTCHA that Firebase requires before it texts a code from a web page. It needs
 * a DOM element to live in: this creates one at the end of `<body>` (no element id is needed in
 * your screens). Google's reCAPTCHA badge shows while it is in use.
 */
function recaptchaVerifier(): RecaptchaVerifier {
  if (!recaptcha) {
    const container = document.createElement('div');
    document.body.appendChild(container);
    recaptcha = { verifier: new RecaptchaVerifier(auth(), container, { size: 'invisible' }), container };
  }
  return recaptcha.verifier;
}

/** Texts a sign-in code to `phoneNumber` (international format, such as +15555550100). */
export async function sendPhoneCode(phoneNumber: string): Promise<PhoneCodeRequest> {
  try {
    const confirmation = await signInWithPhoneNumber(auth(), phoneNumber, recaptchaVerifier());
    return {
      confirm: async (code: string) => {
        const credential = await confirmation.confirm(code);
        return credential.user;
      },
    };
  } catch (error) {
    // A failed reCAPTCHA cannot be solved again: start with a fresh one next time.
    recaptcha?.verifier.clear();
    recaptcha?.container.remove();
    recaptcha = null;
    throw error;
  }
}
//#endif
