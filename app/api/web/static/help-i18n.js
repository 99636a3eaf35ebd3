// UI strings for the help page.  Answers themselves come back in the asker's language
// from the API; these only cover the page around them.
const STRINGS = {
  en: {
    title: "Developer help",
    brand: "Developer help",
    heading: "How can we help?",
    intro: "Ask a question about the API. Answers come from our documentation, with links to the pages they are based on.",
    questionLabel: "Your question",
    privacy: "Never paste API keys or secrets; if you do, we remove them before anyone sees your question.",
    submit: "Ask",
    asking: "Looking for an answer…",
    answerHeading: "Answer",
    feedbackQuestion: "Did this answer help?",
    feedbackYes: "Yes",
    feedbackNo: "No",
    feedbackThanks: "Thanks for telling us.",
    feedbackSorry: "Thanks for telling us: we use this to improve the documentation. You can rephrase your question above.",
    sourcesHeading: "Sources",
    relatedHeading: "While you wait, these pages of our docs may help",
    handedOff: "A person from our support team will follow up on this question.",
    ticketRef: "Your reference:",
    empty: "Please type a question first.",
    rateLimited: "You are asking too quickly. Please wait a moment and try again.",
    rateLimitedSeconds: "You are asking too quickly. Please try again in {s} seconds.",
    invalid: "We could not accept this question:",
    network: "We could not reach the help service. Check your connection and try again.",
    failed: "Something went wrong:",
    contactHeading: "Get the reply",
    linkIntro: "Keep this link: the reply appears there, and you can follow up.",
    emailLabel: "Your email, to receive the reply",
    emailSubmit: "Email me the reply",
    emailSaved: "Saved. We will email the reply to {email}.",
    emailCurrent: "Replies are emailed to {email}.",
    emailInvalid: "Please enter a valid email address.",
    conversationHeading: "Your conversation",
    conversationMissing: "This conversation link is not valid. Check that you copied all of it.",
    statusOpen: "Our support team is on it.",
    statusAnswered: "Support has answered.",
    statusSolved: "Marked as solved. Reply below if you still need help.",
    you: "You",
    support: "Support",
    followupLabel: "Reply to support",
    followupSubmit: "Send",
    sending: "Sending…",
  },
  es: {
    title: "Ayuda para desarrolladores",
    brand: "Ayuda para desarrolladores",
    heading: "¿En qué podemos ayudarte?",
    intro: "Haz una pregunta sobre la API. Las respuestas salen de nuestra documentación, con enlaces a las páginas en las que se basan.",
    questionLabel: "Tu pregunta",
    privacy: "No pegues claves de API ni secretos; si lo haces, los eliminamos antes de que nadie vea tu pregunta.",
    submit: "Preguntar",
    asking: "Buscando una respuesta…",
    answerHeading: "Respuesta",
    feedbackQuestion: "¿Te ayudó esta respuesta?",
    feedbackYes: "Sí",
    feedbackNo: "No",
    feedbackThanks: "Gracias por contárnoslo.",
    feedbackSorry: "Gracias por contárnoslo: lo usamos para mejorar la documentación. Puedes reformular tu pregunta arriba.",
    sourcesHeading: "Fuentes",
    relatedHeading: "Mientras esperas, estas páginas de la documentación pueden ayudarte",
    handedOff: "Una persona de nuestro equipo de soporte dará seguimiento a esta pregunta.",
    ticketRef: "Tu referencia:",
    empty: "Escribe una pregunta primero.",
    rateLimited: "Estás preguntando demasiado rápido. Espera un momento y vuelve a intentarlo.",
    rateLimitedSeconds: "Estás preguntando demasiado rápido. Vuelve a intentarlo en {s} segundos.",
    invalid: "No pudimos aceptar esta pregunta:",
    network: "No pudimos conectar con el servicio de ayuda. Revisa tu conexión y vuelve a intentarlo.",
    failed: "Algo salió mal:",
  },
  pt: {
    title: "Ajuda para desenvolvedores",
    brand: "Ajuda para desenvolvedores",
    heading: "Como podemos ajudar?",
    intro: "Faça uma pergunta sobre a API. As respostas vêm da nossa documentação, com links para as páginas em que se baseiam.",
    questionLabel: "Sua pergunta",
    privacy: "Nunca cole chaves de API ou segredos; se fizer isso, nós os removemos antes que alguém veja sua pergunta.",
    submit: "Perguntar",
    asking: "Procurando uma resposta…",
    answerHeading: "Resposta",
    feedbackQuestion: "Esta resposta ajudou?",
    feedbackYes: "Sim",
    feedbackNo: "Não",
    feedbackThanks: "Obrigado por nos contar.",
    feedbackSorry: "Obrigado por nos contar: usamos isso para melhorar a documentação. Você pode reformular sua pergunta acima.",
    sourcesHeading: "Fontes",
    relatedHeading: "Enquanto isso, estas páginas da documentação podem ajudar",
    handedOff: "Uma pessoa da nossa equipe de suporte vai dar continuidade a esta pergunta.",
    ticketRef: "Sua referência:",
    empty: "Digite uma pergunta primeiro.",
    rateLimited: "Você está perguntando rápido demais. Aguarde um momento e tente novamente.",
    rateLimitedSeconds: "Você está perguntando rápido demais. Tente novamente em {s} segundos.",
    invalid: "Não conseguimos aceitar esta pergunta:",
    network: "Não conseguimos acessar o serviço de ajuda. Verifique sua conexão e tente novamente.",
    failed: "Algo deu errado:",
  },
};

// `?lang=` wins (handy for support links), then the browser's preference order.
export function pickLanguage(search = window.location.search, preferred = navigator.languages || [navigator.language]) {
  const forced = new URLSearchParams(search).get("lang");
  for (const tag of [forced, ...preferred]) {
    const base = (tag || "").toLowerCase().split("-")[0];
    if (base in STRINGS) return base;
  }
  return "en";
}

export function strings(lang) {
  // Per key: a string not yet translated shows in English rather than not at all.
  return { ...STRINGS.en, ...(STRINGS[lang] || {}) };
}
