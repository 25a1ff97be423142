// The Firebase JS SDK app that the `.web.ts` services use on the web (React Native Firebase is
// native-only; native apps read google-services.json / GoogleService-Info.plist instead). Its
// web config comes from the EXPO_PUBLIC_FIREBASE_* variables, which Expo inlines when it bundles:
// all of them are public identifiers of the project, not secrets (access is guarded by Firebase
// security rules and the authorized domains in Firebase console > Authentication > Settings).
import { getApp, getApps, initializeApp, type FirebaseApp, type FirebaseOptions } from 'firebase/app';

/** The web config of the Firebase project (Firebase console > Project settings > Your apps > Web app). */
export const firebaseWebConfig: FirebaseOptions = {
  apiKey: process.env.EXPO_PUBLIC_FIREBASE_API_KEY,
  authDomain: process.env.EXPO_PUBLIC_FIREBASE_AUTH_DOMAIN,
  projectId: process.env.EXPO_PUBLIC_FIREBASE_PROJECT_ID,
  storageBucket: process.env.EXPO_PUBLIC_FIREBASE_STORAGE_BUCKET,
  messagingSenderId: process.env.EXPO_PUBLIC_FIREBASE_MESSAGING_SENDER_ID,
  appId: process.env.EXPO_PUBLIC_FIREBASE_APP_ID,
  measurementId: process.env.EXPO_PUBLIC_FIREBASE_MEASUREMENT_ID || undefined,
};

const REQUIRED: [keyof FirebaseOptions, string][] = [
  ['apiKey', 'EXPO_PUBLIC_FIREBASE_API_KEY'],
  ['authDomain', 'EXPO_PUBLIC_FIREBASE_AUTH_DOMAIN'],
  ['projectId', 'EXPO_PUBLIC_FIREBASE_PROJECT_ID'],
  ['storageBucket', 'EXPO_PUBLIC_FIREBASE_STORAGE_BUCKET'],
  ['messagingSenderId', 'EXPO_PUBLIC_FIREBASE_MESSAGING_SENDER_ID'],
  ['appId', 'EXPO_PUBLIC_FIREBASE_APP_ID'],
];

/**
 * The Firebase app of the web build, initialized once from `firebaseWebConfig`.
 *
 * @throws when a variable of the web config is not set (restart Metro after editing `.env`).
 */
export function firebaseWebApp(): FirebaseApp {
  if (getApps().length > 0) return getApp();
  const missing = REQUIRED.filter(([key]) => !firebaseWebConfig[key]).map(([, name]) => name);
  if (missing.length > 0) {
    throw new Error(
      `Firebase is not configured for the web: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set. ` +
        'Add the values of your web app (Firebase console > Project settings > Your apps) to .env and restart Expo.',
    );
  }
  return initializeApp(firebaseWebConfig);
}
