//! What every host of the library (the CLI, the Node package, the C ABI) shares, so that each
//! rule has one home: the stable error codes ([`codes`]) and where the store and the keyring live
//! ([`location`]).

pub mod codes;
pub mod location;
