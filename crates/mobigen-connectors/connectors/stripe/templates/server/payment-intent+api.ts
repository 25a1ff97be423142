// Server-only API route: creates a Stripe PaymentIntent. Reads STRIPE_SECRET_KEY from
// the server environment (.env.local locally, EAS environment variables when deployed).
import Stripe from 'stripe';

const DEFAULT_CURRENCY = process.env.EXPO_PUBLIC_STRIPE_CURRENCY ?? {%json /currency%};

export async function POST(request: Request): Promise<Response> {
  const secretKey = process.env.STRIPE_SECRET_KEY;
  if (!secretKey) {
    return Response.json({ error: 'STRIPE_SECRET_KEY is not set on the server' }, { status: 500 });
  }
  const body = (await request.json().catch(() => null)) as { amount?: unknown; currency?: unknown } | null;
  const amount = body?.amount;
  if (typeof amount !== 'number' || !Number.isInteger(amount) || amount <= 0) {
    return Response.json({ error: 'amount must be a positive integer' }, { status: 400 });
  }
  const currency = typeof body?.currency === 'string' ? body.currency : DEFAULT_CURRENCY;
  const stripe = new Stripe(secretKey);
  const paymentIntent = await stripe.paymentIntents.create({
    amount,
    currency,
    automatic_payment_methods: { enabled: true },
  });
  return Response.json({ clientSecret: paymentIntent.client_secret });
}
