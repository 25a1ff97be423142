// Google Analytics for Firebase on the web, through the Firebase JS SDK (React Native Firebase is
// native-only): the same exports as `analytics.ts`, which Metro picks on iOS and Android. The web
// app's config comes from the EXPO_PUBLIC_FIREBASE_* variables (see `firebase-web.ts`).
import { getAnalytics, isSupported, logEvent, setUserId, type Analytics } from 'firebase/analytics';

import { firebaseWebApp } from './firebase-web';

/**
 * Whether events are recorded on this platform. On the web it becomes true once Firebase has
 * checked that this browser supports Analytics (cookies and IndexedDB allowed; never during
 * server rendering); until then, and where it is not supported, the calls below do nothing.
 */
export let analyticsAvailable = false;

export type EventParams = Record<string, string | number | boolean>;

const analytics: Promise<Analytics | null> = startAnalytics();

async function startAnalytics(): Promise<Analytics | null> {
  try {
    if (!(await isSupported())) return null;
    const instance = getAnalytics(firebaseWebApp());
    analyticsAvailable = true;
    return instance;
  } catch (error) {
    console.warn('Firebase Analytics is off on the web:', error);
    return null;
  }
}

/** Logs an event (`purchase`, `sign_up`, or your own name). */
export async function trackEvent(name: string, params?: EventParams): Promise<void> {
  const instance = await analytics;
  if (instance) logEvent(instance, name, params);
}

/** Logs a screen view. */
export async function trackScreen(screenName: string): Promise<void> {
  const instance = await analytics;
  if (instance) logEvent(instance, 'screen_view', { firebase_screen: screenName, firebase_screen_class: screenName });
}

/** Ties later events to a user id (null clears it). */
export async function identify(userId: string | null): Promise<void> {
  const instance = await analytics;
  if (instance) setUserId(instance, userId);
}
