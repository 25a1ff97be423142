// The building blocks of this connector's screens: a screen container, a labelled text field,
// buttons and a message line, styled the way the app styles its components.
import type { ReactNode } from 'react';
//#if nativewind
import { ActivityIndicator, Pressable, ScrollView, Text, TextInput, View, type TextInputProps } from 'react-native';
//#else
import {
  ActivityIndicator,
  Pressable,
  ScrollView,
  StyleSheet,
  Text,
  TextInput,
  View,
  type TextInputProps,
} from 'react-native';
//#endif

export function FormScreen({ title, children }: { title: string; children: ReactNode }) {
  return (
//#if nativewind
    <ScrollView contentContainerClassName="grow justify-center gap-4 p-6" keyboardShouldPersistTaps="handled">
      <Text className="text-2xl font-bold">{title}</Text>
      {children}
    </ScrollView>
//#else
    <ScrollView contentContainerStyle={styles.screen} keyboardShouldPersistTaps="handled">
      <Text style={styles.title}>{title}</Text>
      {children}
    </ScrollView>
//#endif
  );
}

export function TextField({ label, ...input }: TextInputProps & { label: string }) {
  return (
//#if nativewind
    <View className="gap-1">
      <Text className="text-sm text-gray-600">{label}</Text>
      <TextInput accessibilityLabel={label} className="rounded-lg border border-gray-300 px-3 py-2 text-base" {...input} />
    </View>
//#else
    <View style={styles.field}>
      <Text style={styles.label}>{label}</Text>
      <TextInput accessibilityLabel={label} style={styles.input} {...input} />
    </View>
//#endif
  );
}

export function PrimaryButton({ label, onPress, busy = false, disabled = false }: {
  label: string;
  onPress: () => void;
  busy?: boolean;
  disabled?: boolean;
}) {
  const off = busy || disabled;
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={busy ? `${label}: in progress` : label}
      accessibilityState={{ disabled: off, busy }}
      disabled={off}
      onPress={onPress}
//#if nativewind
      className={`items-center rounded-lg bg-indigo-600 px-5 py-3 ${off ? 'opacity-50' : ''}`}
//#else
      style={[styles.button, off && styles.disabled]}
//#endif
    >
//#if nativewind
      {busy ? <ActivityIndicator color="#ffffff" /> : <Text className="text-base font-semibold text-white">{label}</Text>}
//#else
      {busy ? <ActivityIndicator color="#ffffff" /> : <Text style={styles.buttonLabel}>{label}</Text>}
//#endif
    </Pressable>
  );
}

export function LinkButton({ label, onPress }: { label: string; onPress: () => void }) {
  return (
    <Pressable accessibilityRole="button" onPress={onPress}>
//#if nativewind
      <Text className="text-center text-indigo-600">{label}</Text>
//#else
      <Text style={styles.link}>{label}</Text>
//#endif
    </Pressable>
  );
}

export function Message({ text, kind = 'error' }: { text: string | null; kind?: 'error' | 'info' }) {
  if (!text) return null;
//#if nativewind
  return <Text className={kind === 'error' ? 'text-red-700' : 'text-gray-700'}>{text}</Text>;
//#else
  return <Text style={kind === 'error' ? styles.error : styles.info}>{text}</Text>;
//#endif
}
//#if !nativewind

const styles = StyleSheet.create({
  screen: { flexGrow: 1, gap: 16, justifyContent: 'center', padding: 24 },
  title: { fontSize: 24, fontWeight: '700' },
  field: { gap: 4 },
  label: { color: '#4b5563', fontSize: 14 },
  input: { borderColor: '#d1d5db', borderRadius: 8, borderWidth: 1, fontSize: 16, paddingHorizontal: 12, paddingVertical: 8 },
  button: { alignItems: 'center', backgroundColor: '#4f46e5', borderRadius: 8, paddingHorizontal: 20, paddingVertical: 12 },
  disabled: { opacity: 0.5 },
  buttonLabel: { color: '#ffffff', fontSize: 16, fontWeight: '600' },
  link: { color: '#4f46e5', textAlign: 'center' },
  error: { color: '#b91c1c' },
  info: { color: '#374151' },
});
//#endif
