// A soft prompt that explains why the app sends notifications before the system dialog is
// shown; hidden once permission is granted or the system dialog can no longer be shown.
import { useEffect, useState } from 'react';
//#if nativewind
import { Pressable, Text, View } from 'react-native';
//#else
import { Pressable, StyleSheet, Text, View } from 'react-native';
//#endif

import { canRequestPermission, hasPermission, onPermissionChange, requestPermission } from '../../services/push-notifications';

export type NotificationPermissionPromptProps = {
  title?: string;
  message?: string;
  onResult?: (granted: boolean) => void;
};

export function NotificationPermissionPrompt({
  title = 'Stay in the loop',
  message = 'Turn on notifications to hear about updates that matter to you.',
  onResult,
}: NotificationPermissionPromptProps) {
  const [visible, setVisible] = useState(false);

  useEffect(() => {
    let active = true;
    Promise.all([hasPermission(), canRequestPermission()]).then(([granted, canAsk]) => {
      if (active) setVisible(!granted && canAsk);
    });
    const unsubscribe = onPermissionChange((granted) => granted && setVisible(false));
    return () => {
      active = false;
      unsubscribe();
    };
  }, []);

  async function allow() {
    const granted = await requestPermission();
    setVisible(false);
    onResult?.(granted);
  }

  if (!visible) return null;
  return (
//#if nativewind
    <View className="gap-2 rounded-xl bg-indigo-50 p-4">
      <Text className="text-base font-semibold">{title}</Text>
      <Text className="text-gray-700">{message}</Text>
      <View className="flex-row justify-end gap-4">
        <Pressable accessibilityRole="button" onPress={() => setVisible(false)}>
          <Text className="text-gray-600">Not now</Text>
        </Pressable>
        <Pressable accessibilityRole="button" onPress={allow}>
          <Text className="font-semibold text-indigo-600">Turn on</Text>
        </Pressable>
      </View>
    </View>
//#else
    <View style={styles.card}>
      <Text style={styles.title}>{title}</Text>
      <Text style={styles.message}>{message}</Text>
      <View style={styles.actions}>
        <Pressable accessibilityRole="button" onPress={() => setVisible(false)}>
          <Text style={styles.later}>Not now</Text>
        </Pressable>
        <Pressable accessibilityRole="button" onPress={allow}>
          <Text style={styles.allow}>Turn on</Text>
        </Pressable>
      </View>
    </View>
//#endif
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  card: { backgroundColor: '#eef2ff', borderRadius: 12, gap: 8, padding: 16 },
  title: { fontSize: 16, fontWeight: '600' },
  message: { color: '#374151' },
  actions: { flexDirection: 'row', gap: 16, justifyContent: 'flex-end' },
  later: { color: '#4b5563' },
  allow: { color: '#4f46e5', fontWeight: '600' },
});
//#endif
