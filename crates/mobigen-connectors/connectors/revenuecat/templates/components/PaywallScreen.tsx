//#if feature.paywalls
// A full-screen paywall designed in the RevenueCat dashboard (react-native-purchases-ui),
// showing the current offering. On the web, Metro picks `PaywallScreen.web.tsx` instead.
import RevenueCatUI from 'react-native-purchases-ui';

import { hasRestorableAccess } from '../../services/purchases';
//#else
// A paywall built from the current RevenueCat offering: a title, the plans and a restore link.
//#endif
//#if !feature.paywalls
//#if nativewind
import { Text, View } from 'react-native';
//#else
import { StyleSheet, Text, View } from 'react-native';
//#endif
//#endif

import type { CustomerInfo } from '../../services/purchases';
//#if !feature.paywalls
//#if feature.restore
import { RestorePurchases } from './RestorePurchases';
//#endif
import { SubscriptionPlans } from './SubscriptionPlans';
//#endif

export type PaywallScreenProps = {
  title?: string;
  onPurchased?: (customerInfo: CustomerInfo) => void;
  onDismiss?: () => void;
};

//#if feature.paywalls
export function PaywallScreen({ onPurchased, onDismiss }: PaywallScreenProps) {
  return (
    <RevenueCatUI.Paywall
      onPurchaseCompleted={({ customerInfo }) => onPurchased?.(customerInfo)}
      // A restore that found nothing is not a purchase.
      onRestoreCompleted={({ customerInfo }) => {
        if (hasRestorableAccess(customerInfo)) onPurchased?.(customerInfo);
      }}
      onDismiss={onDismiss}
    />
  );
}
//#else
export function PaywallScreen({ title = 'Go premium', onPurchased }: PaywallScreenProps) {
  return (
//#if nativewind
    <View className="flex-1 gap-4 p-6">
      <Text className="text-2xl font-bold">{title}</Text>
//#else
    <View style={styles.screen}>
      <Text style={styles.title}>{title}</Text>
//#endif
      <SubscriptionPlans onPurchased={onPurchased} />
//#if feature.restore
      <RestorePurchases onRestored={onPurchased} />
//#endif
    </View>
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  screen: { flex: 1, gap: 16, padding: 24 },
  title: { fontSize: 24, fontWeight: '700' },
});
//#endif
//#endif
