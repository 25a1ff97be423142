// Web stand-in for the analytics service: React Native Firebase is native-only, so analytics is
// not available on the web and events are dropped (`analyticsAvailable` says so). Same exports
// as `analytics.ts`.
/** Whether events are recorded on this platform (false on the web). */
export const analyticsAvailable = false;

export type EventParams = Record<string, string | number | boolean>;

export async function trackEvent(_name: string, _params?: EventParams): Promise<void> {}

export async function trackScreen(_screenName: string): Promise<void> {}

export async function identify(_userId: string | null): Promise<void> {}
