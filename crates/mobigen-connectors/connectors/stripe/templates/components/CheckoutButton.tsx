// A button that pays for a product through Stripe's PaymentSheet; the server decides the price.
import { useState } from 'react';
//#if nativewind
import { ActivityIndicator, Pressable, Text } from 'react-native';
//#else
import { ActivityIndicator, Pressable, StyleSheet, Text } from 'react-native';
//#endif

import { pay, paymentsAvailable, type PaymentResult } from '../../services/stripe';

export type CheckoutButtonProps = {
  /** A product id of the server's price table, or a one-time Stripe Price id (`price_...`). */
  product: string;
  label?: string;
  onResult?: (result: PaymentResult) => void;
};

export function CheckoutButton({ product, label = 'Checkout', onResult }: CheckoutButtonProps) {
  const [busy, setBusy] = useState(false);
  const disabled = busy || !paymentsAvailable;

  async function onPress() {
    setBusy(true);
    try {
      onResult?.(await pay(product));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={busy ? `${label}: processing payment` : label}
      accessibilityState={{ disabled, busy }}
      disabled={disabled}
      onPress={onPress}
//#if nativewind
      className={`items-center rounded-lg bg-indigo-600 px-5 py-3 ${disabled ? 'opacity-50' : ''}`}
//#else
      style={[styles.button, disabled && styles.disabled]}
//#endif
    >
      {busy ? (
        <ActivityIndicator color="#ffffff" />
      ) : (
//#if nativewind
        <Text className="text-base font-semibold text-white">{label}</Text>
//#else
        <Text style={styles.label}>{label}</Text>
//#endif
      )}
    </Pressable>
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  button: {
    alignItems: 'center',
    backgroundColor: '#4f46e5',
    borderRadius: 8,
    paddingHorizontal: 20,
    paddingVertical: 12,
  },
  disabled: { opacity: 0.5 },
  label: { color: '#ffffff', fontSize: 16, fontWeight: '600' },
});
//#endif
