// Console labels in English and Turkish. Customer text is never translated.
"use strict";
window.HANDOFF_I18N = {
  en: {
    title: "Agent console", logout: "Log out", username: "Username", password: "Password",
    login: "Log in", queue: "Queue", claimNext: "Claim next", queueEmpty: "No ticket waiting.",
    mine: "My tickets", stats: "Today", department: "Department", queued: "Queued", handled: "Handled",
    topic: "Topic", priority: "Priority", transaction: "Transaction", ageCheck: "Age check",
    faqTried: "FAQ tried", customerWords: "Customer's words", transcript: "Transcript", claim: "Claim",
    send: "Send", resolve: "Resolve", handBack: "Hand back to bot", transfer: "Transfer",
    replyPlaceholder: "Write a reply…", notePlaceholder: "Resolution note",
    takenByOther: "This ticket was taken by another agent.", live: "live", offline: "reconnecting…",
    solved: "solved", notSolved: "not solved", none: "—", loginFailed: "Log-in failed",
    status_queued: "queued", status_assigned: "assigned", status_resolved: "resolved",
    status_handed_back: "handed back", status_abandoned: "abandoned",
    sender_customer: "Customer", sender_bot: "Bot", sender_agent: "Agent", sender_system: "System", viaPanel: "via the customer panel", undelivered: "not delivered: send again to retry",
    error_invalid_credentials: "wrong username or password", error_login_rate_limited: "too many attempts, try again in {seconds} s", error_cross_origin: "refused: open the console at its own address",
    over_18: "over 18", birth_date: "birth date", verified_token: "verified session",
    usernameVerified: "verified", usernameTyped: "typed by the customer",
    documents: "Documents", noDocuments: "no documents", documentHeld: "held: waiting for a virus scan, not opened",
    download: "download"
  },
  tr: {
    title: "Temsilci konsolu", logout: "Çıkış", username: "Kullanıcı adı", password: "Şifre",
    login: "Giriş", queue: "Kuyruk", claimNext: "Sıradakini al", queueEmpty: "Bekleyen talep yok.",
    mine: "Taleplerim", stats: "Bugün", department: "Departman", queued: "Bekleyen", handled: "Çözülen",
    topic: "Konu", priority: "Öncelik", transaction: "İşlem", ageCheck: "Yaş kontrolü",
    faqTried: "Denenen SSS", customerWords: "Müşterinin ifadesi", transcript: "Konuşma", claim: "Üstlen",
    send: "Gönder", resolve: "Çözüldü", handBack: "Bota devret", transfer: "Aktar",
    replyPlaceholder: "Yanıt yazın…", notePlaceholder: "Çözüm notu",
    takenByOther: "Bu talep başka bir temsilci tarafından alındı.", live: "canlı", offline: "yeniden bağlanıyor…",
    solved: "çözdü", notSolved: "çözmedi", none: "—", loginFailed: "Giriş başarısız",
    status_queued: "kuyrukta", status_assigned: "atandı", status_resolved: "çözüldü",
    status_handed_back: "bota devredildi", status_abandoned: "terk edildi",
    sender_customer: "Müşteri", sender_bot: "Bot", sender_agent: "Temsilci", sender_system: "Sistem", viaPanel: "müşteri panelinden", undelivered: "iletilemedi: yeniden denemek için tekrar gönderin",
    error_invalid_credentials: "kullanıcı adı veya şifre yanlış", error_login_rate_limited: "çok fazla deneme, {seconds} sn sonra tekrar deneyin", error_cross_origin: "reddedildi: konsolu kendi adresinden açın",
    over_18: "18 yaş üstü", birth_date: "doğum tarihi", verified_token: "doğrulanmış oturum",
    usernameVerified: "doğrulandı", usernameTyped: "müşterinin yazdığı",
    documents: "Belgeler", noDocuments: "belge yok", documentHeld: "bekletiliyor: virüs taraması bekleniyor, açılmadı",
    download: "indir"
  }
};
