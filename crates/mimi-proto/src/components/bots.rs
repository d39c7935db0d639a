//! Bots (room-policy-03 §6.7; component `bot_policy`, 0x002F).
//!
//! ```text
//! struct {
//!   opaque name<V>; opaque description<V>; Uri homepage;
//!   bool local_client_bot;
//!   uint32 bot_role_index;
//!   bool can_target_message_in_group;
//!   bool per_user_content;
//! } Bot;
//! struct { Bot allowed_bots<V>; } BotPolicy;
//! ```

use super::metadata::{MAX_LONG_TEXT, MAX_SHORT_TEXT, Uri, read_utf8, write_utf8};
use crate::codec::{Codec, Reader, Utf8String, Writer, wire_value};
use crate::error::{DecodeError, EncodeError};

/// Most bots a room may allow.
pub const MAX_BOTS: usize = 1024;

/// One allowed bot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Bot {
    /// Name.
    pub name: Utf8String,
    /// Description.
    pub description: Utf8String,
    /// Homepage.
    pub homepage: Uri,
    /// True: not a participant; sees content only through a human's client.
    pub local_client_bot: bool,
    /// Its role (0 = not an active participant).
    pub bot_role_index: u32,
    /// May send targeted messages to individual members.
    pub can_target_message_in_group: bool,
    /// May send different content to each member.
    pub per_user_content: bool,
}

impl Codec for Bot {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            name: read_utf8(r, "Bot.name", MAX_SHORT_TEXT)?,
            description: read_utf8(r, "Bot.description", MAX_LONG_TEXT)?,
            homepage: Uri::read(r)?,
            local_client_bot: r.bool("Bot.local_client_bot")?,
            bot_role_index: r.u32()?,
            can_target_message_in_group: r.bool("Bot.can_target_message_in_group")?,
            per_user_content: r.bool("Bot.per_user_content")?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        write_utf8(w, &self.name)?;
        write_utf8(w, &self.description)?;
        self.homepage.write(w)?;
        w.bool(self.local_client_bot);
        w.u32(self.bot_role_index);
        w.bool(self.can_target_message_in_group);
        w.bool(self.per_user_content);
        Ok(())
    }
}

/// `struct { Bot allowed_bots<V>; } BotPolicy;`
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct BotPolicy {
    /// The bots allowed in the room.
    pub allowed_bots: Vec<Bot>,
}

impl Codec for BotPolicy {
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            allowed_bots: r.vector("BotPolicy.allowed_bots", MAX_BOTS, Bot::read)?,
        })
    }

    fn write(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.vector(&self.allowed_bots, |w, b| b.write(w))
    }
}

wire_value!(Bot => "Bot", BotPolicy => "BotPolicy");
super::component!(BotPolicy => BOT_POLICY);
