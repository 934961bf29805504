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
    tooLong: "Mesajınız çok uzun. En fazla {max} karakter yazabilirsiniz; lütfen kısaltın veya bölerek gönderin.",
    attachLabel: "Dosya ekle", attachHint: "Ekran görüntüsü veya belge: JPEG, PNG, WebP ya da PDF, en fazla {max} MB.",
    doc_uploading: "Gönderiliyor… {percent}%", doc_sent: "Dosya gönderildi", doc_held: "Alındı; güvenlik taramasından sonra temsilciye açılacak",
    doc_failed: "Dosya gönderilemedi. Lütfen tekrar deneyin.", doc_not_ready: "Bağlantı kurulunca dosya gönderebilirsiniz.",
    doc_empty: "Dosya boş.", doc_too_large: "Dosya çok büyük. En fazla {max} MB gönderebilirsiniz.",
    doc_unsupported_type: "Bu dosya türü kabul edilmiyor. Lütfen JPEG, PNG, WebP resmi ya da PDF gönderin.",
    doc_unreadable: "Dosya açılamadı; bozuk olabilir. Lütfen başka bir dosya deneyin.",
    doc_image_too_large: "Resmin çözünürlüğü çok yüksek. Lütfen daha küçük bir resim gönderin.",
    doc_pdf_encrypted: "Şifreli PDF kabul edilmiyor. Lütfen şifresiz bir kopyasını gönderin.",
    doc_pdf_script: "Komut (JavaScript) veya otomatik eylem içeren PDF kabul edilmiyor.",
    doc_infected: "Virüs taraması bu dosyada zararlı yazılım buldu; dosya alınmadı.",
    doc_no_file: "Dosya seçilmedi.", doc_conversation_refused: "Bu konuşmaya dosya gönderilemiyor. Lütfen yeni bir konuşma başlatın."
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
    tooLong: "Your message is too long. You can write up to {max} characters; please shorten it or send it in parts.",
    attachLabel: "Attach a file", attachHint: "A screenshot or document: JPEG, PNG, WebP or PDF, up to {max} MB.",
    doc_uploading: "Sending… {percent}%", doc_sent: "File sent", doc_held: "Received; it opens for the agent after a security scan",
    doc_failed: "The file could not be sent. Please try again.", doc_not_ready: "You can send a file once connected.",
    doc_empty: "The file is empty.", doc_too_large: "The file is too large. You can send up to {max} MB.",
    doc_unsupported_type: "This kind of file is not accepted. Please send a JPEG, PNG or WebP image or a PDF.",
    doc_unreadable: "The file could not be opened; it may be damaged. Please try another one.",
    doc_image_too_large: "The image's resolution is too high. Please send a smaller image.",
    doc_pdf_encrypted: "Password-protected PDFs are not accepted. Please send a copy without a password.",
    doc_pdf_script: "PDFs with scripts (JavaScript) or automatic actions are not accepted.",
    doc_infected: "The virus scan found malware in this file; it was not accepted.",
    doc_no_file: "No file was chosen.", doc_conversation_refused: "Files cannot be sent to this conversation. Please start a new conversation."
  }
};
