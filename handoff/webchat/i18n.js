// Web chat labels in Turkish and English. The bot's own texts come from Rasa
// (domain/responses.yml); customer and agent text is never translated.
// {max} and {n} are filled in by chat.js.
"use strict";
window.WEBCHAT_I18N = {
  tr: {
    title: "Canlı destek", newConversation: "Yeni konuşma", formLink: "Talep formu", langToggle: "Switch to English",
    send: "Gönder", placeholder: "Mesajınızı yazın…", inputLabel: "Mesajınız",
    limitHint: "En fazla {max} karakter.", counter: "{n} / {max}",
    empty: "Sorunuzu aşağıya yazarak başlayabilirsiniz. Asistanımız Türkçe ve İngilizce yanıt verir.",
    status_connecting: "Bağlanıyor…", status_connected: "Bağlı",
    status_reconnecting: "Bağlantı koptu, yeniden bağlanılıyor…",
    status_unavailable: "Sohbet şu anda kullanılamıyor. Lütfen biraz sonra tekrar deneyin.",
    sender_bot: "Asistan", sender_agent: "Müşteri temsilcisi", sender_you: "Siz", sender_notice: "Bilgi", fromPanel: "Müşteri panelinden",
    queued: "Bağlantı gelince gönderilecek",
    tooLong: "Mesajınız çok uzun. En fazla {max} karakter yazabilirsiniz; lütfen kısaltın veya bölerek gönderin.",
    attachLabel: "Dosya ekle", attachHint: "Ekran görüntüsü veya belge: JPEG, PNG, WebP ya da PDF, en fazla {max} MB.",
    doc_uploading: "Gönderiliyor… {percent}%", doc_sent: "Dosya gönderildi", doc_held: "Alındı; güvenlik taramasından sonra temsilciye açılacak",
    doc_not_ready: "Bağlantı kurulunca dosya gönderebilirsiniz.",
    doc_conversation_refused: "Bu konuşmaya dosya gönderilemiyor. Lütfen yeni bir konuşma başlatın.",
    // a line asked for documents
    uploadRequestTitle: "Sizden belge isteniyor", uploadChoose: "Dosya seç ve yükle", uploadLater: "Daha sonra",
    uploadSentTitle: "Belgeniz gönderildi. Gerekirse başka bir belge de ekleyebilirsiniz.",
    uploadMore: "Başka belge ekle", uploadDone: "Tamam",
    // the pre-chat form
    prechatTitle: "Sohbete başlamadan önce", prechatIntro: "Size daha hızlı yardımcı olabilmemiz için birkaç bilgi verin.",
    prechatName: "Adınız", prechatNameHint: "Size bu adla hitap ederiz.",
    prechatTopic: "Konu", prechatChooseTopic: "Bir konu seçin",
    prechatContact: "Kullanıcı adı veya e-posta", prechatContactHint: "Platformdaki kullanıcı adınız ya da e-posta adresiniz.",
    prechatRequired: "(zorunlu)", prechatOptional: "(isteğe bağlı)", prechatStart: "Sohbeti başlat",
    prechatNote: "Sohbet başlarken yaşınızı doğrulamamız gerekecek.",
    prechatErrors: "Lütfen işaretli alanları düzeltin.",
    prechatNameMissing: "Lütfen adınızı yazın.",
    prechatNameInvalid: "Adınızı yalnızca harflerle yazın (boşluk, kesme işareti ve tire kullanılabilir).",
    prechatNameTooLong: "Adınız en fazla {max} karakter olabilir.",
    prechatTopicMissing: "Lütfen bir konu seçin.",
    prechatEmailInvalid: "Bu e-posta adresi geçerli görünmüyor. ad@ornek.com biçiminde yazın ya da alanı boş bırakın.",
    prechatContactTooLong: "Bu alan en fazla {max} karakter olabilir.",
    prechatReady: "Teşekkürler, {name}. Sorunuzu aşağıya yazabilirsiniz."
  },
  en: {
    title: "Live support", newConversation: "New conversation", formLink: "Request form", langToggle: "Türkçeye geç",
    send: "Send", placeholder: "Type your message…", inputLabel: "Your message",
    limitHint: "Up to {max} characters.", counter: "{n} / {max}",
    empty: "Type your question below to start. Our assistant answers in Turkish and English.",
    status_connecting: "Connecting…", status_connected: "Connected",
    status_reconnecting: "Connection lost, reconnecting…",
    status_unavailable: "The chat is unavailable right now. Please try again a little later.",
    sender_bot: "Assistant", sender_agent: "Support agent", sender_you: "You", sender_notice: "Notice", fromPanel: "From your customer panel",
    queued: "Will be sent when the connection is back",
    tooLong: "Your message is too long. You can write up to {max} characters; please shorten it or send it in parts.",
    attachLabel: "Attach a file", attachHint: "A screenshot or document: JPEG, PNG, WebP or PDF, up to {max} MB.",
    doc_uploading: "Sending… {percent}%", doc_sent: "File sent", doc_held: "Received; it opens for the agent after a security scan",
    doc_not_ready: "You can send a file once connected.",
    doc_conversation_refused: "Files cannot be sent to this conversation. Please start a new conversation.",
    // a line asked for documents
    uploadRequestTitle: "We need documents from you", uploadChoose: "Choose a file to upload", uploadLater: "Later",
    uploadSentTitle: "Your document was sent. You can add another one if needed.",
    uploadMore: "Add another document", uploadDone: "Done",
    // the pre-chat form
    prechatTitle: "Before we start", prechatIntro: "A few details help us help you faster.",
    prechatName: "Your name", prechatNameHint: "We'll use it to address you.",
    prechatTopic: "Topic", prechatChooseTopic: "Choose a topic",
    prechatContact: "Username or e-mail", prechatContactHint: "Your username on the platform, or your e-mail address.",
    prechatRequired: "(required)", prechatOptional: "(optional)", prechatStart: "Start chat",
    prechatNote: "When the chat starts, we'll need to check your age.",
    prechatErrors: "Please correct the marked fields.",
    prechatNameMissing: "Please enter your name.",
    prechatNameInvalid: "Please write your name in letters only (spaces, apostrophes and hyphens are fine).",
    prechatNameTooLong: "Your name can have at most {max} characters.",
    prechatTopicMissing: "Please choose a topic.",
    prechatEmailInvalid: "This e-mail address doesn't look valid. Write it like name@example.com, or leave the field empty.",
    prechatContactTooLong: "This field can have at most {max} characters.",
    prechatReady: "Thank you, {name}. Type your question below."
  }
};
// the document refusals both pages share (documents_i18n.js, loaded first)
Object.keys(window.WEBCHAT_I18N).forEach((lang) => Object.assign(window.WEBCHAT_I18N[lang], (window.DOCUMENT_I18N || {})[lang]));
