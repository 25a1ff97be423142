// The packages of the current RevenueCat offering (monthly, annual, ...) with their store
// prices, named as in the connector's config (`products`) when listed there; tapping one buys it
// through the App Store or Google Play.
import { useEffect, useState } from 'react';
//#if nativewind
import { ActivityIndicator, Pressable, Text, View } from 'react-native';
//#else
import { ActivityIndicator, Pressable, StyleSheet, Text, View } from 'react-native';
//#endif

import {
  getCurrentOffering,
  productDisplayName,
  purchase,
  type CustomerInfo,
  type PurchasesPackage,
} from '../../services/purchases';
import { Message } from './FormControls';

export type SubscriptionPlansProps = {
  onPurchased?: (customerInfo: CustomerInfo) => void;
};

export function SubscriptionPlans({ onPurchased }: SubscriptionPlansProps) {
  const [packages, setPackages] = useState<PurchasesPackage[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let active = true;
    getCurrentOffering()
      .then((offering) => active && setPackages(offering?.availablePackages ?? []))
      .catch((e: unknown) => {
        if (!active) return;
        setPackages([]);
        setError(e instanceof Error ? e.message : 'Plans could not be loaded.');
      });
    return () => {
      active = false;
    };
  }, []);

  async function buy(pkg: PurchasesPackage) {
    setBusy(pkg.identifier);
    setError(null);
    try {
      const info = await purchase(pkg);
      if (info) onPurchased?.(info);
    } catch (e) {
      setError(e instanceof Error ? e.message : 'The purchase failed.');
    } finally {
      setBusy(null);
    }
  }

  if (packages === null) return <ActivityIndicator />;
  return (
//#if nativewind
    <View className="gap-3">
//#else
    <View style={styles.list}>
//#endif
      {packages.length === 0 && !error ? <Message text="No plans are available right now." kind="info" /> : null}
      {packages.map((pkg) => {
        const name = productDisplayName(pkg.product.identifier) ?? pkg.product.title;
        return (
        <Pressable
          key={pkg.identifier}
          accessibilityRole="button"
          accessibilityLabel={busy === pkg.identifier ? `${name}: purchase in progress` : `${name}, ${pkg.product.priceString}`}
          accessibilityState={{ disabled: busy !== null, busy: busy === pkg.identifier }}
          disabled={busy !== null}
          onPress={() => buy(pkg)}
//#if nativewind
          className={`rounded-xl border border-gray-200 p-4 ${busy === pkg.identifier ? 'opacity-50' : ''}`}
        >
          <Text className="text-lg font-semibold">{name}</Text>
          <Text className="text-base text-indigo-600">{pkg.product.priceString}</Text>
          {pkg.product.description ? <Text className="text-gray-600">{pkg.product.description}</Text> : null}
//#else
          style={[styles.plan, busy === pkg.identifier && styles.busy]}
        >
          <Text style={styles.title}>{name}</Text>
          <Text style={styles.price}>{pkg.product.priceString}</Text>
          {pkg.product.description ? <Text style={styles.description}>{pkg.product.description}</Text> : null}
//#endif
        </Pressable>
        );
      })}
      <Message text={error} />
    </View>
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  list: { gap: 12 },
  plan: { borderColor: '#e5e7eb', borderRadius: 12, borderWidth: 1, padding: 16 },
  busy: { opacity: 0.5 },
  title: { fontSize: 18, fontWeight: '600' },
  price: { color: '#4f46e5', fontSize: 16 },
  description: { color: '#4b5563' },
});
//#endif
