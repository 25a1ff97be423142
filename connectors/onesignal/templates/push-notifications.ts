// Push notifications through OneSignal's v5 SDK (react-native-onesignal). Sending notifications
// needs the App API key and therefore happens on a server, never in the app.
import { LogLevel, OneSignal } from 'react-native-onesignal';

let initialized = false;

/** Initializes OneSignal with the app id; safe to call more than once. */
export function initializePush(): void {
  if (initialized) return;
  const appId = process.env.EXPO_PUBLIC_ONESIGNAL_APP_ID;
  if (!appId) return;
  if (__DEV__) OneSignal.Debug.setLogLevel(LogLevel.Warn);
  OneSignal.initialize(appId);
  initialized = true;
}

/** Asks the user for permission to show notifications; resolves to whether it was granted. */
export function requestPermission(): Promise<boolean> {
  return OneSignal.Notifications.requestPermission(true);
}

/** Calls `handler` when the user taps a notification; returns a function that removes it. */
export function onNotificationClick(handler: (data: Record<string, unknown>) => void): () => void {
  const listener = (event: { notification: { additionalData?: object } }) =>
    handler((event.notification.additionalData ?? {}) as Record<string, unknown>);
  OneSignal.Notifications.addEventListener('click', listener);
  return () => OneSignal.Notifications.removeEventListener('click', listener);
}

/** Identifies the user across devices (OneSignal external id). */
export function login(externalId: string): void {
  OneSignal.login(externalId);
}
