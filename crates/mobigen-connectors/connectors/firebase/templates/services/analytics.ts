// Google Analytics for Firebase through React Native Firebase's modular API. On the web, Metro
// picks `analytics.web.ts` instead (events are dropped).
import { getAnalytics, logEvent, logScreenView, setUserId } from '@react-native-firebase/analytics';

/** Whether events are recorded on this platform (false on the web). */
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
