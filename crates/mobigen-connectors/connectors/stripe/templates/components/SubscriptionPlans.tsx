// Subscription plans backed by Stripe Prices: the user enters an email, picks a plan and pays the
// first invoice in the PaymentSheet. The prices are created in the Stripe Dashboard.
import { useState } from 'react';
//#if nativewind
import { Pressable, Text, TextInput, View } from 'react-native';
//#else
import { Pressable, StyleSheet, Text, TextInput, View } from 'react-native';
//#endif

import { paymentsAvailable, subscribe, type PaymentResult } from '../../services/stripe';

export type StripePlan = {
  /** The Stripe Price id (`price_...`). */
  priceId: string;
  title: string;
  /** Display price, e.g. "$9.99 / month". */
  price: string;
  description?: string;
};

export type SubscriptionPlansProps = {
  plans: StripePlan[];
  onResult?: (plan: StripePlan, result: PaymentResult) => void;
};

export function SubscriptionPlans({ plans, onResult }: SubscriptionPlansProps) {
  const [email, setEmail] = useState('');
  const [busyPlan, setBusyPlan] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  async function choose(plan: StripePlan) {
    if (!email.includes('@')) {
      setMessage('Enter your email address first.');
      return;
    }
    setBusyPlan(plan.priceId);
    setMessage(null);
    try {
      const result = await subscribe(plan.priceId, email.trim());
      setMessage(result.status === 'failed' ? result.message : result.status === 'succeeded' ? `Subscribed to ${plan.title}.` : null);
      onResult?.(plan, result);
    } finally {
      setBusyPlan(null);
    }
  }

  return (
//#if nativewind
    <View className="gap-3">
      <TextInput
        accessibilityLabel="Email"
        className="rounded-lg border border-gray-300 px-3 py-2"
        placeholder="Email"
        autoCapitalize="none"
        keyboardType="email-address"
        value={email}
        onChangeText={setEmail}
      />
      {plans.map((plan) => (
        <Pressable
          key={plan.priceId}
          accessibilityRole="button"
          accessibilityLabel={busyPlan === plan.priceId ? `${plan.title}, ${plan.price}: subscribing` : `${plan.title}, ${plan.price}`}
          accessibilityState={{ disabled: busyPlan !== null || !paymentsAvailable, busy: busyPlan === plan.priceId }}
          disabled={busyPlan !== null || !paymentsAvailable}
          onPress={() => choose(plan)}
          className={`rounded-xl border border-gray-200 p-4 ${busyPlan === plan.priceId ? 'opacity-50' : ''}`}
        >
          <Text className="text-lg font-semibold">{plan.title}</Text>
          <Text className="text-base text-indigo-600">{plan.price}</Text>
          {plan.description ? <Text className="text-gray-600">{plan.description}</Text> : null}
        </Pressable>
      ))}
      {message ? <Text className="text-gray-700">{message}</Text> : null}
    </View>
//#else
    <View style={styles.list}>
      <TextInput
        accessibilityLabel="Email"
        style={styles.input}
        placeholder="Email"
        autoCapitalize="none"
        keyboardType="email-address"
        value={email}
        onChangeText={setEmail}
      />
      {plans.map((plan) => (
        <Pressable
          key={plan.priceId}
          accessibilityRole="button"
          accessibilityLabel={busyPlan === plan.priceId ? `${plan.title}, ${plan.price}: subscribing` : `${plan.title}, ${plan.price}`}
          accessibilityState={{ disabled: busyPlan !== null || !paymentsAvailable, busy: busyPlan === plan.priceId }}
          disabled={busyPlan !== null || !paymentsAvailable}
          onPress={() => choose(plan)}
          style={[styles.plan, busyPlan === plan.priceId && styles.busy]}
        >
          <Text style={styles.title}>{plan.title}</Text>
          <Text style={styles.price}>{plan.price}</Text>
          {plan.description ? <Text style={styles.description}>{plan.description}</Text> : null}
        </Pressable>
      ))}
      {message ? <Text style={styles.message}>{message}</Text> : null}
    </View>
//#endif
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  list: { gap: 12 },
  input: { borderColor: '#d1d5db', borderRadius: 8, borderWidth: 1, paddingHorizontal: 12, paddingVertical: 8 },
  plan: { borderColor: '#e5e7eb', borderRadius: 12, borderWidth: 1, padding: 16 },
  busy: { opacity: 0.5 },
  title: { fontSize: 18, fontWeight: '600' },
  price: { color: '#4f46e5', fontSize: 16 },
  description: { color: '#4b5563' },
  message: { color: '#374151' },
});
//#endif
