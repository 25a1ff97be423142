// Web stand-in for the paywall service: RevenueCat's paywall UI is native-only, so presenting a
// paywall on the web fails with a clear message. Same exports as `paywalls.ts`.

export type PaywallOutcome = 'purchased' | 'restored' | 'cancelled' | 'not-presented' | 'error';

/** Whether paywalls can be presented on this platform (false on the web). */
export const paywallsAvailable = false;

const unavailable = () => new Error('Paywalls are not available on the web: they are shown in the iOS and Android apps.');

export async function presentPaywall(): Promise<PaywallOutcome> {
  throw unavailable();
}

export async function presentPaywallIfNeeded(_entitlementId?: string): Promise<PaywallOutcome> {
  throw unavailable();
}
