// Web stand-in for the Cloud Storage service: React Native Firebase is native-only, so file
// storage is not available on the web and every call fails with a clear message. Same exports
// as `firebase-storage.ts`.
const unavailable = () => new Error('File storage is not available on the web: it is available in the iOS and Android apps.');

/** Whether file storage works on this platform (false on the web). */
export const storageAvailable = false;

export async function uploadFile(_localUri: string, _remotePath: string, _contentType?: string): Promise<string> {
  throw unavailable();
}

export async function getFileUrl(_remotePath: string): Promise<string> {
  throw unavailable();
}
