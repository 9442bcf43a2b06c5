#![cfg_attr(feature = "libfuzzer", no_main)]
postamt_fuzz::target!(msgauth::fuzz::records);
