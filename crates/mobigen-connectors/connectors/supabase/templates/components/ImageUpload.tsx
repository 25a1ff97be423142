// Picks an image from the library and uploads it to a Supabase Storage bucket; shows the
// uploaded image. The bucket's policies decide who may upload.
import { useState } from 'react';
import * as ImagePicker from 'expo-image-picker';
//#if nativewind
import { Image, View } from 'react-native';
//#else
import { Image, StyleSheet, View } from 'react-native';
//#endif

import { supabase } from '../../services/supabase';
import { Message, PrimaryButton } from './FormControls';

/** The buckets listed in the connector's config. */
const BUCKETS: readonly string[] = {%json /features/storage/buckets%};

export type ImageUploadProps = {
  /** Bucket to upload to; defaults to the first bucket in the connector's config. */
  bucket?: string;
  /** Folder inside the bucket. */
  folder?: string;
  /**
   * Called with the stored path and a signed URL valid for an hour (it works for private and
   * public buckets; a private bucket has no public URL).
   */
  onUploaded?: (file: { path: string; signedUrl: string }) => void;
};

export function ImageUpload({ bucket = BUCKETS[0] ?? 'uploads', folder = 'images', onUploaded }: ImageUploadProps) {
  const [uri, setUri] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function pickAndUpload() {
    setError(null);
    const picked = await ImagePicker.launchImageLibraryAsync({ mediaTypes: ['images'], quality: 0.8 });
    if (picked.canceled || !picked.assets[0]) return;
    const asset = picked.assets[0];
    setBusy(true);
    try {
      const body = await (await fetch(asset.uri)).arrayBuffer();
      const contentType = asset.mimeType ?? 'image/jpeg';
      const extension = contentType.split('/')[1] ?? 'jpg';
      const path = `${folder}/${Date.now()}.${extension}`;
      const { error: failure } = await supabase.storage.from(bucket).upload(path, body, { contentType, upsert: false });
      if (failure) throw failure;
      const { data, error: signError } = await supabase.storage.from(bucket).createSignedUrl(path, 3600);
      if (signError) throw signError;
      setUri(asset.uri);
      onUploaded?.({ path, signedUrl: data.signedUrl });
    } catch (e) {
      setError(e instanceof Error ? e.message : 'Upload failed.');
    } finally {
      setBusy(false);
    }
  }

  return (
//#if nativewind
    <View className="items-center gap-3">
      {uri ? <Image source={{ uri }} accessibilityLabel="The uploaded image" className="h-48 w-48 rounded-xl" /> : null}
//#else
    <View style={styles.container}>
      {uri ? <Image source={{ uri }} accessibilityLabel="The uploaded image" style={styles.image} /> : null}
//#endif
      <Message text={error} />
      <PrimaryButton label={uri ? 'Upload another image' : 'Upload an image'} busy={busy} onPress={pickAndUpload} />
    </View>
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  container: { alignItems: 'center', gap: 12 },
  image: { borderRadius: 12, height: 192, width: 192 },
});
//#endif
