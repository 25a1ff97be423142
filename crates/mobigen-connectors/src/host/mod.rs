//! What every host of the library (the CLI, the Node package, the C ABI) shares, so that each
//! rule has one home: the stable error codes ([`codes`]), where the store and the keyring live
//! ([`location`]), and the store + project protocol ([`protocol`]: plan, write the store, apply,
//! undo the store write when applying fails).

pub mod codes;
pub mod location;
pub mod protocol;
