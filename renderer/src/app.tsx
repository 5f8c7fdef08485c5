/** The MCP Valet window. */
export function App() {
  return (
    <main>
      <h1>MCP Valet</h1>
    </main>
  );
}
