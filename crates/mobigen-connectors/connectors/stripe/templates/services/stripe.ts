// Client-side Stripe: asks the app's server routes for a PaymentIntent (or a subscription), then
// presents Stripe's PaymentSheet. The secret key stays on the server (the `api/stripe/` routes).
// On the web, Metro picks `stripe.web.ts` instead: Stripe's React Native SDK is native-only.
import { initPaymentSheet, PaymentSheetError, presentPaymentSheet } from '@stripe/stripe-react-native';
import * as Linking from 'expo-linking';

/** Base URL of the app's API routes; empty means same origin (web) or expo-router's `origin`. */
const API_BASE_URL = (process.env.EXPO_PUBLIC_API_BASE_URL ?? '').replace(/\/+$/, '');
const MERCHANT_DISPLAY_NAME: string = {%json /merchantDisplayName%};
const CURRENCY = process.env.EXPO_PUBLIC_STRIPE_CURRENCY ?? {%json /currency%};
/** Two-letter country of the merchant, for Apple Pay and Google Pay. */
const MERCHANT_COUNTRY_CODE: string = {%json /merchantCountryCode%};

/**
 * Where Stripe sends the user back after a bank or 3-D Secure page: the app's URL scheme (app.json
 * `scheme`); `StripeRoot` hands the incoming URL to Stripe (`handleURLCallback`).
 */
export const STRIPE_RETURN_URL = Linking.createURL('stripe-redirect');

/** Whether payments can be made on this platform (false on the web). */
export const paymentsAvailable = true;

export type PaymentResult =
  | { status: 'succeeded' }
  | { status: 'canceled' }
  | { status: 'failed'; message: string };

/** Returns the signed-in user's session token (Supabase access token or Firebase ID token). */
export type AuthTokenProvider = () => Promise<string | null>;

let authTokenProvider: AuthTokenProvider = async () => null;

/**
 * Tells the payment calls how to get the signed-in user's session token; the server routes refuse
 * callers without one (HTTP 401). For example, with Supabase:
 * `setAuthTokenProvider(async () => (await supabase.auth.getSession()).data.session?.access_token ?? null)`,
 * with Firebase: `setAuthTokenProvider(async () => (await getAuth().currentUser?.getIdToken()) ?? null)`.
 */
export function setAuthTokenProvider(provider: AuthTokenProvider): void {
  authTokenProvider = provider;
}

async function postJson<T>(path: string, body: unknown): Promise<T> {
  const token = await authTokenProvider();
  const response = await fetch(`${API_BASE_URL}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  if (response.status === 401) {
    throw new Error('Sign in before paying.');
  }
  if (!response.ok) {
    throw new Error(`The payment server answered HTTP ${response.status}`);
  }
  return (await response.json()) as T;
}

/**
 * Asks the server to create a PaymentIntent for a product of the server's price table (or a
 * one-time Stripe Price id, `price_...`) and returns its client secret. The server decides the
 * amount.
 */
export async function createPaymentIntent(product: string): Promise<string> {
  const { clientSecret } = await postJson<{ clientSecret: string }>(
    '/api/stripe/payment-intent',
    product.startsWith('price_') ? { priceId: product } : { productId: product },
  );
  return clientSecret;
}

/** Initialises and presents the PaymentSheet for a PaymentIntent's client secret. */
export async function presentPayment(paymentIntentClientSecret: string): Promise<PaymentResult> {
  const init = await initPaymentSheet({
    paymentIntentClientSecret,
    merchantDisplayName: MERCHANT_DISPLAY_NAME,
    returnURL: STRIPE_RETURN_URL,
//#if feature.applePay
    applePay: { merchantCountryCode: MERCHANT_COUNTRY_CODE },
//#endif
//#if feature.googlePay
    // Google Pay's test environment follows the key's mode (pk_test_), not the build type.
    googlePay: {
      merchantCountryCode: MERCHANT_COUNTRY_CODE,
      currencyCode: CURRENCY,
      testEnv: (process.env.EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY ?? '').startsWith('pk_test_'),
    },
//#endif
  });
  if (init.error) {
    return { status: 'failed', message: init.error.message };
  }
  const presented = await presentPaymentSheet();
  if (presented.error) {
    return presented.error.code === PaymentSheetError.Canceled
      ? { status: 'canceled' }
      : { status: 'failed', message: presented.error.message };
  }
  return { status: 'succeeded' };
}

/** Charges the server's price for `product` (a price table id or a Stripe Price id) through the PaymentSheet. */
export async function pay(product: string): Promise<PaymentResult> {
  try {
    return await presentPayment(await createPaymentIntent(product));
  } catch (error) {
    return { status: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}
//#if feature.subscriptions

/** Subscribes the customer with this email to a Stripe Price, paying the first invoice in the PaymentSheet. */
export async function subscribe(priceId: string, email: string): Promise<PaymentResult> {
  try {
    const { clientSecret } = await postJson<{ clientSecret: string }>('/api/stripe/subscription', {
      priceId,
      email,
    });
    return await presentPayment(clientSecret);
  } catch (error) {
    return { status: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}
//#endif
