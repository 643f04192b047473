// The widget's own interface text (the bot's answers come from domain.yml).
// Keep the privacy notice in step with docs/privacy.md.
export const STRINGS = {
  pl: {
    title: "Asystent IOM Polska",
    open: "Czat z asystentem IOM",
    close: "Zamknij czat",
    quickExit: "Szybkie wyjście",
    quickExitHint: "Szybkie wyjście: usuwa rozmowę i otwiera inną stronę (albo naciśnij dwa razy Esc)",
    languageToggle: "English",
    languageToggleLabel: "Switch the chat to English",
    inputLabel: "Twoja wiadomość",
    placeholder: "Napisz wiadomość…",
    send: "Wyślij",
    log: "Rozmowa z asystentem",
    you: "Ty",
    bot: "Asystent",
    typing: "Asystent pisze…",
    connecting: "Łączenie…",
    reconnecting: "Brak połączenia. Próbuję połączyć ponownie…",
    pending: "Wiadomość zostanie wysłana po odzyskaniu połączenia.",
    offlineTitle: "Nie mogę teraz połączyć się z asystentem.",
    offlineIntro: "Najważniejsze numery:",
    privacyTitle: "Zanim napiszesz",
    privacy:
      "Rozmowa jest zapisywana na serwerze IOM Polska na 30 dni, żeby przeszkoleni pracownicy mogli poprawiać odpowiedzi, potem jest usuwana. Nie podawaj imienia, numeru dokumentu ani adresu. W tej karcie przeglądarki rozmowa znika po jej zamknięciu albo po „Szybkim wyjściu”. Asystent informuje, ale nie udziela porad prawnych.",
    privacyLink: "Więcej o prywatności",
    emergency: "W niebezpieczeństwie dzwoń pod 112.",
    tooLong: "Wiadomość jest za długa (maks. 2000 znaków).",
  },
  en: {
    title: "IOM Poland assistant",
    open: "Chat with the IOM assistant",
    close: "Close the chat",
    quickExit: "Quick exit",
    quickExitHint: "Quick exit: deletes the chat and opens another site (or press Esc twice)",
    languageToggle: "Polski",
    languageToggleLabel: "Przełącz czat na język polski",
    inputLabel: "Your message",
    placeholder: "Write a message…",
    send: "Send",
    log: "Conversation with the assistant",
    you: "You",
    bot: "Assistant",
    typing: "The assistant is typing…",
    connecting: "Connecting…",
    reconnecting: "No connection. Trying to reconnect…",
    pending: "The message will be sent when the connection is back.",
    offlineTitle: "I cannot reach the assistant right now.",
    offlineIntro: "The most important numbers:",
    privacyTitle: "Before you write",
    privacy:
      "The conversation is stored on IOM Poland's server for 30 days so that trained staff can improve the answers, then it is deleted. Do not give your name, document number or address. In this browser tab the chat disappears when you close the tab or press “Quick exit”. The assistant informs but does not give legal advice.",
    privacyLink: "More about privacy",
    emergency: "In danger, call 112.",
    tooLong: "The message is too long (max. 2000 characters).",
  },
};

export function pick(lang) {
  return STRINGS[lang] || STRINGS.pl;
}
