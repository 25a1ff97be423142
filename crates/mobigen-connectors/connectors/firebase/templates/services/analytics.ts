// Google Analytics for Firebase through React Native Firebase's modular API. On the web, Metro
// picks `analytics.web.ts` instead (the Firebase JS SDK).
import { getAnalytics, logEvent, logScreenView, setUserId } from '@react-native-firebase/analytics';

/** Whether events are recorded on this platform (on the web: once the browser is found to support it). */
export const analyticsAvailable = true;

export type EventParams = Record<string, string | number | boolean>;

/** Logs an event (`purchase`, `sign_up`, or your own name). */
export async function trackEvent(name: string, params?: EventParams): Promise<void> {
  await logEvent(getAnalytics(), name, params);
}

/** Logs a screen view. */
export function trackScreen(screenName: string): Promise<void> {
  return logScreenView(getAnalytics(), { screen_name: screenName, screen_class: screenName });
}

/** Ties later events to a user id (null clears it). */
export function identify(userId: string | null): Promise<void> {
  return setUserId(getAnalytics(), userId);
}
