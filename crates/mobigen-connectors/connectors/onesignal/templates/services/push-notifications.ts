// Push notifications through OneSignal's v5 SDK (react-native-onesignal): `OneSignal.initialize`
// at start-up (src/connectors.tsx), then permission, subscription and tags through the
// `Notifications` and `User` namespaces. Sending notifications needs the App API key and
// therefore happens on a server (the `api/onesignal/send` route), never in the app. On the web,
// Metro picks `push-notifications.web.ts` instead.
import { LogLevel, OneSignal, type NotificationWillDisplayEvent } from 'react-native-onesignal';

/** Whether push notifications work on this platform (false on the web). */
export const pushAvailable = true;

let initialized = false;

/** Initializes OneSignal with the app id; safe to call more than once. */
export function initializePush(): void {
  if (initialized) return;
  const appId = process.env.EXPO_PUBLIC_ONESIGNAL_APP_ID;
  if (!appId) return;
  if (__DEV__) OneSignal.Debug.setLogLevel(LogLevel.Warn);
  OneSignal.initialize(appId);
  // Show notifications that arrive while the app is open, too.
  OneSignal.Notifications.addEventListener('foregroundWillDisplay', (event: NotificationWillDisplayEvent) => {
    event.preventDefault();
    event.getNotification().display();
  });
//#if feature.inAppMessaging
  OneSignal.InAppMessages.setPaused(false);
//#else
  // In-app messages are off in the connector's config: none is shown.
  OneSignal.InAppMessages.setPaused(true);
//#endif
  initialized = true;
}

/** Whether the app may show notifications. */
export function hasPermission(): Promise<boolean> {
  return OneSignal.Notifications.getPermissionAsync();
}

/** Whether the system prompt can still be shown (false once the user answered it). */
export function canRequestPermission(): Promise<boolean> {
  return OneSignal.Notifications.canRequestPermission();
}

/**
 * With `confirmAlerts` in the connector's config: when the user declined before, asking again
 * shows an alert that offers to open the system settings (iOS), instead of doing nothing.
 */
const CONFIRM_ALERTS: boolean = {%json /features/confirmAlerts%};

/** Asks the user for permission to show notifications; resolves to whether it was granted. */
export function requestPermission(): Promise<boolean> {
  return OneSignal.Notifications.requestPermission(CONFIRM_ALERTS);
}

/** The OneSignal id of this device's user, or null before OneSignal has created it. */
export function getUserId(): Promise<string | null> {
  return OneSignal.User.getOnesignalId();
}

/** Calls `listener` when the permission changes; returns a function that removes it. */
export function onPermissionChange(listener: (granted: boolean) => void): () => void {
  OneSignal.Notifications.addEventListener('permissionChange', listener);
  return () => OneSignal.Notifications.removeEventListener('permissionChange', listener);
}

/** Calls `handler` with a notification's additional data when the user taps it; returns a function that removes it. */
export function onNotificationClick(handler: (data: Record<string, unknown>) => void): () => void {
  const listener = (event: { notification: { additionalData?: object } }) =>
    handler((event.notification.additionalData ?? {}) as Record<string, unknown>);
  OneSignal.Notifications.addEventListener('click', listener);
  return () => OneSignal.Notifications.removeEventListener('click', listener);
}

/** Whether this device receives pushes (permission granted and not opted out). */
export function isSubscribed(): Promise<boolean> {
  return OneSignal.User.pushSubscription.getOptedInAsync();
}

/** Turns pushes on or off for this device without touching the system permission. */
export function setSubscribed(subscribed: boolean): void {
  if (subscribed) OneSignal.User.pushSubscription.optIn();
  else OneSignal.User.pushSubscription.optOut();
}

/** Sets a tag on the user, for segments (`plan` = `pro`). */
export function setTag(key: string, value: string): void {
  OneSignal.User.addTag(key, value);
}

/** Removes a tag from the user. */
export function removeTag(key: string): void {
  OneSignal.User.removeTag(key);
}

/** Identifies the user across devices (OneSignal external id); call after sign-in. */
export function login(externalId: string): void {
  OneSignal.login(externalId);
}

/** Forgets the user on this device; call after sign-out. */
export function logout(): void {
  OneSignal.logout();
}
//#if feature.location

/** Shares the device location with OneSignal for location-based messages (asks for permission). */
export function shareLocation(shared: boolean): void {
  if (shared) OneSignal.Location.requestPermission();
  OneSignal.Location.setShared(shared);
}
//#endif
