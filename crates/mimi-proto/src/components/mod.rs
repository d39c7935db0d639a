//! Room-state components carried in the MLS `app_data_dictionary` (protocol-06 §7, room-policy-03).
