// Web stand-in for the push notification service: OneSignal's React Native SDK is native-only,
// so on the web there is no permission and every call does nothing. Same exports as
// `push-notifications.ts`.

/** Whether push notifications work on this platform (false on the web). */
export const pushAvailable = false;

export function initializePush(): void {}

export async function hasPermission(): Promise<boolean> {
  return false;
}

export async function canRequestPermission(): Promise<boolean> {
  return false;
}

export async function requestPermission(): Promise<boolean> {
  return false;
}

export function onPermissionChange(_listener: (granted: boolean) => void): () => void {
  return () => {};
}

export function onNotificationClick(_handler: (data: Record<string, unknown>) => void): () => void {
  return () => {};
}

export async function isSubscribed(): Promise<boolean> {
  return false;
}

export function setSubscribed(_subscribed: boolean): void {}

export function setTag(_key: string, _value: string): void {}

export function removeTag(_key: string): void {}

export function login(_externalId: string): void {}

export function logout(): void {}

/** Not available on web: the app uses OneSignal's native SDK only, so there is no user id here. */
export async function getUserId(): Promise<string | null> {
  return null;
}
//#if feature.location

export function shareLocation(_shared: boolean): void {}
//#endif
