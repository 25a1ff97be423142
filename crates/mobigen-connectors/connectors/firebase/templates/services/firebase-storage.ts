// Cloud Storage through React Native Firebase's modular API: upload a local file (a `file://`
// URI, e.g. from an image picker), get download URLs and delete files. On the web, Metro picks
// `firebase-storage.web.ts` instead (the Firebase JS SDK).
import { deleteObject, getDownloadURL, getStorage, putFile, ref } from '@react-native-firebase/storage';

/** Whether file storage works on this platform (it does on the web too). */
export const storageAvailable = true;

/** Uploads the local file at `localUri` to `remotePath` in the default bucket; resolves to its download URL. */
export async function uploadFile(localUri: string, remotePath: string, contentType?: string): Promise<string> {
  const target = ref(getStorage(), remotePath);
  await putFile(target, localUri, contentType ? { contentType } : undefined);
  return getDownloadURL(target);
}

/** The download URL of a stored file. */
export function getFileUrl(remotePath: string): Promise<string> {
  return getDownloadURL(ref(getStorage(), remotePath));
}

/** Deletes a stored file. */
export function deleteFile(remotePath: string): Promise<void> {
  return deleteObject(ref(getStorage(), remotePath));
}
