// Web stand-in for the Stripe service: Stripe's React Native SDK is native-only, so on the web
// every payment resolves to a clear failure instead of breaking the bundle. Same exports as
// `stripe.ts`.

/** Whether payments can be made on this platform (false on the web). */
export const paymentsAvailable = false;

export type PaymentResult =
  | { status: 'succeeded' }
  | { status: 'canceled' }
  | { status: 'failed'; message: string };

const UNAVAILABLE: PaymentResult = {
  status: 'failed',
  message: 'Payments are available in the iOS and Android apps.',
};

export type AuthTokenProvider = () => Promise<string | null>;

export function setAuthTokenProvider(_provider: AuthTokenProvider): void {}

export async function createPaymentIntent(_product: string): Promise<string> {
  throw new Error('Payments are available in the iOS and Android apps.');
}

export async function presentPayment(_paymentIntentClientSecret: string): Promise<PaymentResult> {
  return UNAVAILABLE;
}

export async function pay(_product: string): Promise<PaymentResult> {
  return UNAVAILABLE;
}
//#if feature.subscriptions

export async function subscribe(_priceId: string, _email: string): Promise<PaymentResult> {
  return UNAVAILABLE;
}
//#endif
