// Web version of the paywall: RevenueCat's paywall UI is native-only, and store purchases
// happen in the iOS and Android apps.
//#if nativewind
import { Text, View } from 'react-native';
//#else
import { StyleSheet, Text, View } from 'react-native';
//#endif

import type { CustomerInfo } from '../../services/purchases';

export type PaywallScreenProps = {
  title?: string;
  onPurchased?: (customerInfo: CustomerInfo) => void;
  onDismiss?: () => void;
};

export function PaywallScreen({ title = 'Go premium' }: PaywallScreenProps) {
  return (
//#if nativewind
    <View className="flex-1 items-center justify-center gap-2 p-6">
      <Text className="text-2xl font-bold">{title}</Text>
      <Text className="text-gray-600">Subscriptions are available in the iOS and Android apps.</Text>
    </View>
//#else
    <View style={styles.screen}>
      <Text style={styles.title}>{title}</Text>
      <Text style={styles.note}>Subscriptions are available in the iOS and Android apps.</Text>
    </View>
//#endif
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  screen: { alignItems: 'center', flex: 1, gap: 8, justifyContent: 'center', padding: 24 },
  title: { fontSize: 24, fontWeight: '700' },
  note: { color: '#4b5563' },
});
//#endif
