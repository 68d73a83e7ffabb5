//! Cryptography shared by the client side (`telegram`) and the server side (`sandbox`).

pub mod srp;
