// Web chat labels in Turkish and English. The bot's own texts come from Rasa
// (domain/responses.yml); customer and agent text is never translated.
// {max} and {n} are filled in by chat.js.
"use strict";
window.WEBCHAT_I18N = {
  tr: {
    title: "Canlı destek", newConversation: "Yeni konuşma", langToggle: "Switch to English",
    send: "Gönder", placeholder: "Mesajınızı yazın…", inputLabel: "Mesajınız",
    limitHint: "En fazla {max} karakter.", counter: "{n} / {max}",
    empty: "Sorunuzu aşağıya yazarak başlayabilirsiniz. Asistanımız Türkçe ve İngilizce yanıt verir.",
    status_connecting: "Bağlanıyor…", status_connected: "Bağlı",
    status_reconnecting: "Bağlantı koptu, yeniden bağlanılıyor…",
    status_unavailable: "Sohbet şu anda kullanılamıyor. Lütfen biraz sonra tekrar deneyin.",
    sender_bot: "Asistan", sender_agent: "Müşteri temsilcisi", sender_you: "Siz", sender_notice: "Bilgi",
    queued: "Bağlantı gelince gönderilecek",
    tooLong: "Mesajınız çok uzun. En fazla {max} karakter yazabilirsiniz; lütfen kısaltın veya bölerek gönderin."
  },
  en: {
    title: "Live support", newConversation: "New conversation", langToggle: "Türkçeye geç",
    send: "Send", placeholder: "Type your message…", inputLabel: "Your message",
    limitHint: "Up to {max} characters.", counter: "{n} / {max}",
    empty: "Type your question below to start. Our assistant answers in Turkish and English.",
    status_connecting: "Connecting…", status_connected: "Connected",
    status_reconnecting: "Connection lost, reconnecting…",
    status_unavailable: "The chat is unavailable right now. Please try again a little later.",
    sender_bot: "Assistant", sender_agent: "Support agent", sender_you: "You", sender_notice: "Notice",
    queued: "Will be sent when the connection is back",
    tooLong: "Your message is too long. You can write up to {max} characters; please shorten it or send it in parts."
  }
};
