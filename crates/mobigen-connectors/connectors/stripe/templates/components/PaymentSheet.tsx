// An order summary with a Pay button: shows the amount, runs Stripe's PaymentSheet and reports
// the outcome below the button.
import { useState } from 'react';
//#if nativewind
import { Text, View } from 'react-native';
//#else
import { StyleSheet, Text, View } from 'react-native';
//#endif

import type { PaymentResult } from '../../services/stripe';
import { CheckoutButton } from './CheckoutButton';

const DEFAULT_CURRENCY = process.env.EXPO_PUBLIC_STRIPE_CURRENCY ?? {%json /currency%};

export type PaymentSheetProps = {
  /** What is bought: a product id of the server's price table, or a one-time Stripe Price id. */
  product: string;
  /** The price shown, in the currency's smallest unit (cents for USD, yen for JPY); the server charges its own price. */
  amount: number;
  currency?: string;
  title?: string;
  onResult?: (result: PaymentResult) => void;
};

/** Currencies Stripe counts in whole units (an amount of 500 JPY is 500, not 5.00). */
const ZERO_DECIMAL_CURRENCIES = new Set([
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
]);
/** Currencies Stripe counts in thousandths. */
const THREE_DECIMAL_CURRENCIES = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** How many decimals Stripe's smallest unit of `currency` has (Stripe's table, not the locale's). */
export function minorUnitDigits(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL_CURRENCIES.has(code)) return 0;
  if (THREE_DECIMAL_CURRENCIES.has(code)) return 3;
  return 2;
}

/** Formats a Stripe amount (in the currency's smallest unit) for display: 999 USD is $9.99, 500 JPY is ¥500. */
export function formatAmount(amount: number, currency: string): string {
  const digits = minorUnitDigits(currency);
  const value = amount / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency.toUpperCase() }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency.toUpperCase()}`;
  }
}

function describe(result: PaymentResult): string {
  switch (result.status) {
    case 'succeeded':
      return 'Payment complete. Thank you!';
    case 'canceled':
      return 'Payment canceled.';
    case 'failed':
      return result.message;
  }
}

export function PaymentSheet({ product, amount, currency = DEFAULT_CURRENCY, title = 'Total', onResult }: PaymentSheetProps) {
  const [result, setResult] = useState<PaymentResult | null>(null);

  function handleResult(next: PaymentResult) {
    setResult(next);
    onResult?.(next);
  }

  return (
//#if nativewind
    <View className="gap-3 rounded-xl border border-gray-200 p-4">
      <View className="flex-row justify-between">
        <Text className="text-base text-gray-600">{title}</Text>
        <Text className="text-base font-semibold">{formatAmount(amount, currency)}</Text>
      </View>
      <CheckoutButton product={product} label="Pay" onResult={handleResult} />
      {result ? (
        <Text className={result.status === 'succeeded' ? 'text-green-700' : 'text-red-700'}>{describe(result)}</Text>
      ) : null}
    </View>
//#else
    <View style={styles.card}>
      <View style={styles.row}>
        <Text style={styles.title}>{title}</Text>
        <Text style={styles.amount}>{formatAmount(amount, currency)}</Text>
      </View>
      <CheckoutButton product={product} label="Pay" onResult={handleResult} />
      {result ? (
        <Text style={result.status === 'succeeded' ? styles.success : styles.error}>{describe(result)}</Text>
      ) : null}
    </View>
//#endif
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  card: { borderColor: '#e5e7eb', borderRadius: 12, borderWidth: 1, gap: 12, padding: 16 },
  row: { flexDirection: 'row', justifyContent: 'space-between' },
  title: { color: '#4b5563', fontSize: 16 },
  amount: { fontSize: 16, fontWeight: '600' },
  success: { color: '#15803d' },
  error: { color: '#b91c1c' },
});
//#endif
