// RevenueCat paywalls designed in the dashboard, presented modally (react-native-purchases-ui).
// On the web, Metro picks `paywalls.web.ts` instead: the paywall UI is native-only.
import RevenueCatUI, { PAYWALL_RESULT } from 'react-native-purchases-ui';

import { ENTITLEMENTS } from './purchases';

/** How a presented paywall ended. */
export type PaywallOutcome = 'purchased' | 'restored' | 'cancelled' | 'not-presented' | 'error';

/** Whether paywalls can be presented on this platform (false on the web). */
export const paywallsAvailable = true;

function outcome(result: PAYWALL_RESULT): PaywallOutcome {
  switch (result) {
    case PAYWALL_RESULT.PURCHASED:
      return 'purchased';
    case PAYWALL_RESULT.RESTORED:
      return 'restored';
    case PAYWALL_RESULT.CANCELLED:
      return 'cancelled';
    case PAYWALL_RESULT.NOT_PRESENTED:
      return 'not-presented';
    default:
      return 'error';
  }
}

/** Presents the current offering's paywall. */
export async function presentPaywall(): Promise<PaywallOutcome> {
  return outcome(await RevenueCatUI.presentPaywall());
}

/**
 * Presents the paywall only when the entitlement (default: the first one in the config) is not
 * active; resolves to 'not-presented' when the customer already has it.
 */
export async function presentPaywallIfNeeded(entitlementId: string | undefined = ENTITLEMENTS[0]): Promise<PaywallOutcome> {
  if (!entitlementId) {
    throw new Error('presentPaywallIfNeeded needs an entitlement: list one in the connector config (entitlements) or pass its id.');
  }
  return outcome(await RevenueCatUI.presentPaywallIfNeeded({ requiredEntitlementIdentifier: entitlementId }));
}
