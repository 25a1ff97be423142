// Cloud Storage on the web, through the Firebase JS SDK (React Native Firebase is native-only):
// the same exports as `firebase-storage.ts`, which Metro picks on iOS and Android. The web app's
// config comes from the EXPO_PUBLIC_FIREBASE_* variables (see `firebase-web.ts`).
import { deleteObject, getDownloadURL, getStorage, ref, uploadBytes } from 'firebase/storage';

import { firebaseWebApp } from './firebase-web';

/** Whether file storage works on this platform (it does on the web too). */
export const storageAvailable = true;

/**
 * Uploads a file to `remotePath` in the default bucket; resolves to its download URL. `source` is
 * a `File`/`Blob` or a URI the browser can fetch: the `blob:` or `data:` URI an image picker
 * returns on the web, or an `https:` URL.
 */
export async function uploadFile(source: string | Blob, remotePath: string, contentType?: string): Promise<string> {
  const body = typeof source === 'string' ? await fetchBlob(source) : source;
  const target = ref(getStorage(firebaseWebApp()), remotePath);
  const type = contentType ?? (body.type || undefined);
  await uploadBytes(target, body, type ? { contentType: type } : undefined);
  return getDownloadURL(target);
}

async function fetchBlob(uri: string): Promise<Blob> {
  const response = await fetch(uri);
  if (!response.ok) throw new Error(`Could not read the file to upload (HTTP ${response.status}).`);
  return response.blob();
}

/** The download URL of a stored file. */
export function getFileUrl(remotePath: string): Promise<string> {
  return getDownloadURL(ref(getStorage(firebaseWebApp()), remotePath));
}

/** Deletes a stored file. */
export function deleteFile(remotePath: string): Promise<void> {
  return deleteObject(ref(getStorage(firebaseWebApp()), remotePath));
}
