// In-app purchases through RevenueCat (react-native-purchases). Configured once at start-up
// (src/connectors.tsx) with this platform's public SDK key. In Expo Go and on the web the SDK
// runs in its preview mode; real purchases need a development build.
import { Platform } from 'react-native';
import Purchases, {
  PRODUCT_CATEGORY,
  type CustomerInfo,
  type PurchasesOffering,
  type PurchasesOfferings,
  type PurchasesPackage,
  type PurchasesStoreProduct,
} from 'react-native-purchases';

export type { CustomerInfo, PurchasesOffering, PurchasesPackage, PurchasesStoreProduct };

/** The entitlements listed in the connector's config (`pro`, ...). */
export const ENTITLEMENTS: readonly string[] = {%json /entitlements%};

/** A store product listed in the connector's config; `price` is only a fallback label, the store's price is shown when known. */
export type ConfiguredProduct = {
  id: string;
  type: 'subscription' | 'consumable' | 'non-consumable';
  displayName: string;
  price?: string;
};

/** The products listed in the connector's config, in order. */
export const PRODUCTS: readonly ConfiguredProduct[] = {%json /products%};

/** The config's display name of a store product id, or null for a product the config does not list. */
export function productDisplayName(productId: string): string | null {
  return PRODUCTS.find((product) => product.id === productId)?.displayName ?? null;
}

/**
 * The configured products as the store sells them (price, currency), in the config's order; for
 * products sold outside an offering, such as consumables. Products the store does not know are left out.
 */
export async function getConfiguredProducts(): Promise<PurchasesStoreProduct[]> {
  const subscriptions = PRODUCTS.filter((p) => p.type === 'subscription').map((p) => p.id);
  const others = PRODUCTS.filter((p) => p.type !== 'subscription').map((p) => p.id);
  const found = [
    ...(subscriptions.length > 0 ? await Purchases.getProducts(subscriptions, PRODUCT_CATEGORY.SUBSCRIPTION) : []),
    ...(others.length > 0 ? await Purchases.getProducts(others, PRODUCT_CATEGORY.NON_SUBSCRIPTION) : []),
  ];
  const order = PRODUCTS.map((p) => p.id);
  return found.sort((a, b) => order.indexOf(a.identifier) - order.indexOf(b.identifier));
}

/** Buys a store product outside an offering; resolves to null when the user cancels. */
export async function purchaseProduct(product: PurchasesStoreProduct): Promise<CustomerInfo | null> {
  try {
    const { customerInfo } = await Purchases.purchaseStoreProduct(product);
    return customerInfo;
  } catch (error) {
    if ((error as { userCancelled?: boolean }).userCancelled) return null;
    throw error;
  }
}

let configured = false;

/**
 * Configures the SDK with this platform's public key; safe to call more than once. Not on the
 * web: RevenueCat's browser mode needs a Web Billing key, not the App Store or Play Store key,
 * so purchases there report that the SDK is not configured.
 */
export function configurePurchases(): void {
  if (configured || Platform.OS === 'web') return;
  const apiKey =
    Platform.OS === 'ios'
      ? process.env.EXPO_PUBLIC_RC_IOS_KEY
      : process.env.EXPO_PUBLIC_RC_ANDROID_KEY;
  if (!apiKey) return;
  // An Amazon Appstore key (amzn_) needs the Amazon store, not Google Play.
  Purchases.configure({ apiKey, useAmazon: apiKey.startsWith('amzn_') });
  configured = true;
}

/** The offerings set up in RevenueCat (`current` is the default one). */
export function getOfferings(): Promise<PurchasesOfferings> {
  return Purchases.getOfferings();
}

/** The current offering, or null when none is set up. */
export async function getCurrentOffering(): Promise<PurchasesOffering | null> {
  return (await Purchases.getOfferings()).current;
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

/**
 * Whether `info` shows something bought: an active entitlement of the config (any active one when
 * the config lists none), or, without entitlements, a purchased product.
 */
export function hasRestorableAccess(info: CustomerInfo): boolean {
  const active = Object.keys(info.entitlements.active);
  if (ENTITLEMENTS.length > 0) return ENTITLEMENTS.some((id) => active.includes(id));
  return active.length > 0 || info.allPurchasedProductIdentifiers.length > 0;
}

/**
 * Restores earlier purchases of the store account; `restored` is false when the account had
 * nothing to restore (the store answers without an error then).
 */
export async function restorePurchases(): Promise<{ customerInfo: CustomerInfo; restored: boolean }> {
  const customerInfo = await Purchases.restorePurchases();
  return { customerInfo, restored: hasRestorableAccess(customerInfo) };
}

//#if feature.offlineMode
/** The last customer info RevenueCat sent, for entitlement checks while it cannot be reached. */
let lastCustomerInfo: CustomerInfo | null = null;

//#endif
/**
 * Whether the entitlement (default: the first one in the config) is active for the current customer.
//#if feature.offlineMode
 * Offline mode: when RevenueCat cannot be reached, the answer comes from the last customer info
 * seen in this session (an entitlement that expired since then counts as inactive).
//#endif
 */
export async function hasEntitlement(entitlementId: string | undefined = ENTITLEMENTS[0]): Promise<boolean> {
  if (!entitlementId) return false;
//#if feature.offlineMode
  try {
    lastCustomerInfo = await Purchases.getCustomerInfo();
  } catch (error) {
    if (!lastCustomerInfo) throw error;
    const entitlement = lastCustomerInfo.entitlements.all[entitlementId];
    return Boolean(entitlement?.isActive && (!entitlement.expirationDate || new Date(entitlement.expirationDate) > new Date()));
  }
  return entitlementId in lastCustomerInfo.entitlements.active;
//#else
  const info = await Purchases.getCustomerInfo();
  return entitlementId in info.entitlements.active;
//#endif
}

/** Ties purchases to your own user id (call after sign-in). */
export async function identify(appUserId: string): Promise<CustomerInfo> {
  const { customerInfo } = await Purchases.logIn(appUserId);
  return customerInfo;
}
