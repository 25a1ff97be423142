// Web stand-in for the analytics service: React Native Firebase is native-only, so events are
// dropped on the web. Same exports as `analytics.ts`.
export type EventParams = Record<string, string | number | boolean>;

export async function trackEvent(_name: string, _params?: EventParams): Promise<void> {}

export async function trackScreen(_screenName: string): Promise<void> {}

export async function identify(_userId: string | null): Promise<void> {}
