// In-app purchases through RevenueCat (react-native-purchases). Configure once at start-up; the
// public SDK key is chosen per platform. In Expo Go and on the web the SDK runs in preview mode.
import { Platform } from 'react-native';
import Purchases, {
  type CustomerInfo,
  type PurchasesOfferings,
  type PurchasesPackage,
} from 'react-native-purchases';

let configured = false;

/** Configures the SDK with this platform's public key; safe to call more than once. */
export function configurePurchases(): void {
  if (configured) return;
  const apiKey =
    Platform.OS === 'ios'
      ? process.env.EXPO_PUBLIC_RC_IOS_KEY
      : process.env.EXPO_PUBLIC_RC_ANDROID_KEY;
  if (!apiKey) return;
  Purchases.configure({ apiKey });
  configured = true;
}

/** The offerings set up in RevenueCat (`current` is the default one). */
export function getOfferings(): Promise<PurchasesOfferings> {
  return Purchases.getOfferings();
}

/** Buys a package; resolves to null when the user cancels. */
export async function purchase(pkg: PurchasesPackage): Promise<CustomerInfo | null> {
  try {
    const { customerInfo } = await Purchases.purchasePackage(pkg);
    return customerInfo;
  } catch (error) {
    if ((error as { userCancelled?: boolean }).userCancelled) return null;
    throw error;
  }
}

/** Restores earlier purchases of the store account. */
export function restorePurchases(): Promise<CustomerInfo> {
  return Purchases.restorePurchases();
}

/** Whether the entitlement is active for the current customer. */
export async function hasEntitlement(entitlementId: string): Promise<boolean> {
  const info = await Purchases.getCustomerInfo();
  return entitlementId in info.entitlements.active;
}
