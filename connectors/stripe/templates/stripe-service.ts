// Client-side Stripe helpers: fetch a PaymentIntent from the app's server route, then present
// Stripe's PaymentSheet. The secret key stays on the server (see app/api/stripe/).
import { initPaymentSheet, presentPaymentSheet } from '@stripe/stripe-react-native';

/** Base URL of the app's API routes; empty means same origin (web) or expo-router's `origin`. */
const API_BASE_URL = process.env.EXPO_PUBLIC_API_BASE_URL ?? '';

export type PaymentResult =
  | { status: 'succeeded' }
  | { status: 'canceled' }
  | { status: 'failed'; message: string };

/** Asks the server to create a PaymentIntent and returns its client secret. */
export async function createPaymentIntent(amount: number, currency?: string): Promise<string> {
  const response = await fetch(`${API_BASE_URL}/api/stripe/payment-intent`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ amount, currency }),
  });
  if (!response.ok) {
    throw new Error(`Creating the payment failed (HTTP ${response.status})`);
  }
  const { clientSecret } = (await response.json()) as { clientSecret: string };
  return clientSecret;
}

/** Creates a PaymentIntent for `amount` (smallest currency unit) and presents the PaymentSheet. */
export async function pay(
  amount: number,
  merchantDisplayName: string,
  currency?: string,
): Promise<PaymentResult> {
  const paymentIntentClientSecret = await createPaymentIntent(amount, currency);
  const init = await initPaymentSheet({ paymentIntentClientSecret, merchantDisplayName });
  if (init.error) {
    return { status: 'failed', message: init.error.message };
  }
  const presented = await presentPaymentSheet();
  if (presented.error) {
    return presented.error.code === 'Canceled'
      ? { status: 'canceled' }
      : { status: 'failed', message: presented.error.message };
  }
  return { status: 'succeeded' };
}
