// Web stand-in for the Cloud Storage service: React Native Firebase is native-only. Same exports
// as `firebase-storage.ts`.
const unavailable = () => new Error('File storage is available in the iOS and Android apps.');

export async function uploadFile(_localUri: string, _remotePath: string, _contentType?: string): Promise<string> {
  throw unavailable();
}

export async function getFileUrl(_remotePath: string): Promise<string> {
  throw unavailable();
}
