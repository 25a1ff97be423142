// A button that charges a fixed amount through Stripe's PaymentSheet.
import { useState } from 'react';
//#if nativewind
import { ActivityIndicator, Pressable, Text } from 'react-native';
//#else
import { ActivityIndicator, Pressable, StyleSheet, Text } from 'react-native';
//#endif

import { pay, paymentsAvailable, type PaymentResult } from '../../services/stripe';

export type CheckoutButtonProps = {
  /** Amount in the currency's smallest unit (cents for USD). */
  amount: number;
  currency?: string;
  label?: string;
  onResult?: (result: PaymentResult) => void;
};

export function CheckoutButton({ amount, currency, label = 'Checkout', onResult }: CheckoutButtonProps) {
  const [busy, setBusy] = useState(false);
  const disabled = busy || !paymentsAvailable;

  async function onPress() {
    setBusy(true);
    try {
      onResult?.(await pay(amount, currency));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Pressable
      accessibilityRole="button"
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
