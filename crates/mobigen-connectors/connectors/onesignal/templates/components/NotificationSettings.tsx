// Notification settings: a switch for push notifications on this device
//#if feature.location
// and one for location-based messages.
//#else
// (asks for permission when needed).
//#endif
import { useEffect, useState } from 'react';
//#if nativewind
import { Switch, Text, View } from 'react-native';
//#else
import { StyleSheet, Switch, Text, View } from 'react-native';
//#endif

import {
  hasPermission,
  isSubscribed,
  onPermissionChange,
  pushAvailable,
  requestPermission,
  setSubscribed,
//#if feature.location
  shareLocation,
//#endif
} from '../../services/push-notifications';

function SettingRow({ label, value, onChange, disabled }: { label: string; value: boolean; onChange: (value: boolean) => void; disabled?: boolean }) {
  return (
//#if nativewind
    <View className="flex-row items-center justify-between py-3">
      <Text className="text-base">{label}</Text>
//#else
    <View style={styles.row}>
      <Text style={styles.label}>{label}</Text>
//#endif
      <Switch accessibilityLabel={label} value={value} onValueChange={onChange} disabled={disabled} />
    </View>
  );
}

export function NotificationSettings() {
  const [enabled, setEnabled] = useState(false);
//#if feature.location
  const [location, setLocation] = useState(false);
//#endif

  useEffect(() => {
    isSubscribed().then(setEnabled);
    return onPermissionChange(() => {
      isSubscribed().then(setEnabled);
    });
  }, []);

  async function toggle(next: boolean) {
    if (next && !(await hasPermission()) && !(await requestPermission())) return;
    setSubscribed(next);
    setEnabled(next);
  }

  return (
//#if nativewind
    <View className="px-4">
//#else
    <View style={styles.list}>
//#endif
      <SettingRow label="Push notifications" value={enabled} onChange={toggle} disabled={!pushAvailable} />
//#if feature.location
      <SettingRow
        label="Location-based messages"
        value={location}
        disabled={!pushAvailable}
        onChange={(next) => {
          shareLocation(next);
          setLocation(next);
        }}
      />
//#endif
    </View>
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  list: { paddingHorizontal: 16 },
  row: { alignItems: 'center', flexDirection: 'row', justifyContent: 'space-between', paddingVertical: 12 },
  label: { fontSize: 16 },
});
//#endif
