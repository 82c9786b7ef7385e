/** Who is asking: the authenticated user behind a command or query (from the access token). */
export type Role = 'customer' | 'admin';

export interface Principal {
  user_id: string;
  email: string;
  role: Role;
}
